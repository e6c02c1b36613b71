import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";

// A bare grpc-js unary call on this machine, now: a server process that answers each request
// with its own bytes (echo-server.ts), and a client in the bench process. It is the ceiling for
// jq's SubmitJob with the same client, transport and process layout but no work behind the call.

const identity = (bytes: Buffer): Buffer => bytes;

export const ECHO_SERVICE = {
  echo: {
    path: "/bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies grpc.ServiceDefinition;

export interface EchoServer {
  readonly pid: number;
  readonly client: EchoClient;
  /** Closes the client and stops the server process; safe to call twice. */
  stop(): Promise<void>;
}

export class EchoClient {
  private readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  echo(request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(ECHO_SERVICE.echo.path, identity, identity, request, (error, response) =>
        error || response === undefined ? reject(error ?? new Error("no response")) : resolve(response),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Forks echo-server.ts (with this process' loader flags, so tsx runs it) and connects to it. */
export async function startEchoServer(): Promise<EchoServer> {
  const child = fork(fileURLToPath(new URL("./echo-server.ts", import.meta.url)), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = once(child, "exit");
  const [message] = (await Promise.race([once(child, "message"), exited.then(() => [undefined])])) as [{ port: number } | undefined];
  if (message === undefined || child.pid === undefined) throw new Error("the echo server exited before it listened");
  const client = new EchoClient(`127.0.0.1:${message.port}`);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    })());
  return { pid: child.pid, client, stop };
}
