import {
  Metadata,
  status as Status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import type { ApiRole } from "../../../libs/config/index.js";
import { InvalidArgument, JqError } from "../../../libs/errors/index.js";
import type { Logger } from "../../../libs/logging/logger.js";
import type { ApiKeyAuth, Principal } from "../../../libs/api-keys/index.js";
import { toRpcStatus } from "./error-status.js";
import type { RpcMetrics } from "./rpc-metrics.js";

/** What a handler learns about its call besides the request. */
export interface CallContext {
  readonly principal: Principal;
  /** The call's request metadata (e.g. a worker's `jq-worker-secret`). */
  readonly metadata: Metadata;
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** Streams only: sends the response headers now (otherwise they go with the first message). */
  sendHeaders(): void;
}

export interface EdgeDeps {
  readonly auth: ApiKeyAuth;
  readonly metrics: RpcMetrics;
  readonly log: Logger;
}

const MALFORMED = Symbol("malformed request");
interface Malformed {
  /** A typed refusal naming the field, or the decoder's complaint. */
  readonly [MALFORMED]: JqError | string;
  /** The decoded message when it is safe to decode (no repeated fields), e.g. to ack its sequence. */
  readonly partial?: unknown;
}

/** Checks a request's raw bytes before they are decoded (apps/api/edge/request-guard.ts). */
export interface RequestGuard {
  /**
   * Throws a JqError naming the field for a refused value, another Error for a broken wire.
   * Returns the refused items of a field whose items are refused one by one (ReportResults).
   */
  check(path: string, bytes: Buffer): ReadonlyMap<number, JqError> | undefined;
  /** Whether a refused request of this method can still be decoded safely (no uncapped repeated fields). */
  decodableAfterRefusal(path: string, bytes: Buffer): boolean;
}

const REFUSED_ITEMS = Symbol("refused items");

/** The items of a decoded request that the guard refused one by one, by index (see RequestGuard.check). */
export function refusedItems(request: object): ReadonlyMap<number, JqError> | undefined {
  return (request as { [REFUSED_ITEMS]?: ReadonlyMap<number, JqError> })[REFUSED_ITEMS];
}

/**
 * grpc-js answers INTERNAL when a request does not decode. Wrapping each method's deserializer
 * turns a malformed message into a marker the handler wrapper answers with INVALID_ARGUMENT; the
 * guard refuses hostile values and item counts before decoding materialises them.
 */
export function acceptMalformedRequests<S extends ServiceDefinition>(service: S, guard?: RequestGuard): S {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    wrapped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        let refused: ReadonlyMap<number, JqError> | undefined;
        try {
          refused = guard?.check(method.path, bytes);
        } catch (err) {
          if (!(err instanceof JqError)) return { [MALFORMED]: (err as Error).message } satisfies Malformed;
          let partial: unknown;
          if (guard?.decodableAfterRefusal(method.path, bytes)) {
            try {
              partial = method.requestDeserialize(bytes);
            } catch {
              partial = undefined;
            }
          }
          return { [MALFORMED]: err, partial } satisfies Malformed;
        }
        try {
          const request = method.requestDeserialize(bytes);
          if (refused) Object.defineProperty(request, REFUSED_ITEMS, { value: refused });
          return request;
        } catch (err) {
          return { [MALFORMED]: (err as Error).message } satisfies Malformed;
        }
      },
    };
  }
  return wrapped as S;
}

function isMalformed(request: unknown): request is Malformed {
  return typeof request === "object" && request !== null && MALFORMED in request;
}

/** The refusal a malformed request gets, and its decoded form when one is safe to have. */
export function malformedRefusal(request: Malformed, service: string): { error: JqError; partial: unknown } {
  const cause = request[MALFORMED];
  const error = cause instanceof JqError ? cause : new InvalidArgument("request", `is not a valid ${service} message: ${cause}`);
  return { error, partial: request.partial };
}

/**
 * The transport edge of one RPC: authorize, refuse malformed input, run the handler, map its
 * typed error to a status code, count and time the call. Handlers only translate.
 */
export class Edge {
  constructor(
    private readonly deps: EdgeDeps,
    private readonly service: string,
    private readonly roles: readonly ApiRole[],
  ) {}

  unary<Req, Res>(method: string, fn: (req: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback) => {
      const done = this.begin(method);
      const controller = new AbortController();
      // grpc-js may report a finished call as cancelled when its stream closes: aborting then would
      // only build an AbortError nobody reads (measurable on the single-submit path).
      let answered = false;
      call.once("cancelled", () => {
        if (!answered) controller.abort();
      });
      void (async () => {
        try {
          const principal = this.admit(call.metadata, call.request);
          const res = await fn(call.request, { principal, metadata: call.metadata, signal: controller.signal, sendHeaders: () => {} });
          answered = true;
          done(Status.OK);
          callback(null, res);
        } catch (err) {
          answered = true;
          const s = this.fail(method, err);
          done(s.code);
          callback({ code: s.code, details: s.details, metadata: new Metadata() });
        }
      })();
    };
  }

  /** A server stream: `fn` writes with `send` (which honours back-pressure) and resolves when done. */
  serverStream<Req, Res>(
    method: string,
    fn: (req: Req, ctx: CallContext, send: (res: Res) => Promise<void>) => Promise<void>,
  ): handleServerStreamingCall<Req, Res> {
    return (call: ServerWritableStream<Req, Res>) => {
      const done = this.begin(method);
      const controller = new AbortController();
      call.once("cancelled", () => controller.abort());
      const send = (res: Res) =>
        new Promise<void>((resolve, reject) => {
          if (controller.signal.aborted) return reject(controller.signal.reason);
          if (call.write(res)) return resolve();
          const onDrain = () => {
            controller.signal.removeEventListener("abort", onAbort);
            resolve();
          };
          const onAbort = () => {
            call.off("drain", onDrain);
            reject(controller.signal.reason);
          };
          call.once("drain", onDrain);
          controller.signal.addEventListener("abort", onAbort, { once: true });
        });
      void (async () => {
        try {
          const principal = this.admit(call.metadata, call.request);
          const sendHeaders = () => call.sendMetadata(new Metadata());
          await fn(call.request, { principal, metadata: call.metadata, signal: controller.signal, sendHeaders }, send);
          done(Status.OK);
          call.end();
        } catch (err) {
          if (controller.signal.aborted) {
            done(Status.CANCELLED);
            return;
          }
          const s = this.fail(method, err);
          done(s.code);
          // grpc-js turns an 'error' event on a writable call into the stream's final status.
          call.emit("error", { code: s.code, details: s.details, metadata: new Metadata() });
        }
      })();
    };
  }

  /** Authorizes and refuses undecodable requests; exposed for the bidirectional streams. */
  admit(metadata: Metadata, request: unknown): Principal {
    const principal = this.deps.auth.authorize(metadata.get("authorization")[0], this.roles);
    if (isMalformed(request)) throw malformedRefusal(request, this.service).error;
    return principal;
  }

  /** Starts the clock of one call; the returned function records its outcome. */
  begin(method: string): (code: Status) => void {
    const end = this.deps.metrics.duration.startTimer({ service: this.service, method });
    return (code) => {
      end();
      this.deps.metrics.requests.inc({ service: this.service, method, code: Status[code] });
    };
  }

  /** Maps an error to its status and logs the unexpected ones. */
  fail(method: string, err: unknown) {
    const s = toRpcStatus(err);
    if (s.unexpected) this.deps.log.error({ err, service: this.service, method }, "rpc failed");
    else this.deps.log.debug({ service: this.service, method, code: Status[s.code], details: s.details }, "rpc refused");
    return s;
  }
}

export { isMalformed };
