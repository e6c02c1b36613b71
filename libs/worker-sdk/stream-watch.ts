import * as grpc from "@grpc/grpc-js";

type StreamingCall = grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>;

/**
 * Watches a streaming call from the moment it is made.
 *
 * The returned promise resolves once the server has evidently accepted the call — its response
 * headers or a first message arrived, or `graceMs` passed without the call ending (a server that
 * sends nothing until it has something to say) — and rejects with the call's error if it ends
 * before that. An end after readiness goes to `onEnd` instead: the ServiceError, or undefined
 * when the server closed the stream with OK. Exactly one of the two reports the end.
 */
export function watchStream(call: StreamingCall, graceMs: number, onEnd: (error: grpc.ServiceError | undefined) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let ready = false;
    let error: grpc.ServiceError | undefined;
    const markReady = () => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(markReady, graceMs);
    call.once("metadata", markReady);
    call.prependOnceListener("data", markReady);
    // grpc-js emits 'error' just before 'status' for a non-OK end; the status decides.
    call.on("error", (err: grpc.ServiceError) => (error = err));
    call.once("status", (status: grpc.StatusObject) => {
      clearTimeout(timer);
      const failure = status.code === grpc.status.OK ? undefined : (error ?? statusError(status));
      if (ready) return onEnd(failure);
      ready = true;
      reject(failure ?? statusError({ ...status, code: grpc.status.UNAVAILABLE, details: "the stream ended before it was open" }));
    });
  });
}

/** True when the call ended because the client cancelled it. */
export function isCancelled(error: unknown): boolean {
  return (error as Partial<grpc.ServiceError> | undefined)?.code === grpc.status.CANCELLED;
}

export function statusError(status: Pick<grpc.StatusObject, "code" | "details" | "metadata">): grpc.ServiceError {
  return Object.assign(new Error(`${status.code} ${grpc.status[status.code]}: ${status.details}`), {
    code: status.code,
    details: status.details,
    metadata: status.metadata,
  });
}
