import * as grpc from "@grpc/grpc-js";

/**
 * Calls any gRPC method with raw request bytes and returns the raw response (or the error), so a
 * test can send what no typed client would (empty or malformed messages) to any path.
 */
export function rawUnary(
  address: string,
  path: string,
  request: Buffer,
  metadata: grpc.Metadata = new grpc.Metadata(),
  deadlineMs = 10_000,
): Promise<{ error: grpc.ServiceError | null; response: Buffer | undefined }> {
  const identity = (b: Buffer) => b;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
      client.close();
      resolve({ error: error ?? null, response });
    });
  });
}

/** Opens a server stream on `path` with raw bytes and collects messages until it ends. */
export function rawServerStream(
  address: string,
  path: string,
  request: Buffer,
  metadata: grpc.Metadata = new grpc.Metadata(),
  deadlineMs = 10_000,
): Promise<{ error: grpc.ServiceError | null; messages: Buffer[] }> {
  const identity = (b: Buffer) => b;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    const call = client.makeServerStreamRequest(path, identity, identity, request, metadata, { deadline: Date.now() + deadlineMs });
    call.on("data", (m: Buffer) => messages.push(m));
    call.on("error", (error: grpc.ServiceError) => {
      client.close();
      resolve({ error, messages });
    });
    call.on("end", () => {
      client.close();
      resolve({ error: null, messages });
    });
  });
}

export function bearer(key: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${key}`);
  return md;
}
