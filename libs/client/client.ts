import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { backoffDelayMs, type BackoffPolicy } from "../backoff/index.js";
import {
  AdminServiceClient,
  JobServiceClient,
  WorkerServiceClient,
} from "../proto/index.js";

export interface ClientOptions {
  /** `host:port` of an API replica or of the load balancer in front of them. */
  readonly address: string;
  /** Bearer API key, sent as `authorization` metadata on every call. */
  readonly apiKey?: string;
  /** TLS: `true` for the system roots, or files for a private CA and mutual TLS. */
  readonly tls?: boolean | { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** Deadline of each unary call; default 10 s. */
  readonly deadlineMs?: number;
  /** Attempts for a call that failed with a retryable code (UNAVAILABLE); default 3. */
  readonly maxAttempts?: number;
  /** Extra channel options, e.g. keepalive. */
  readonly channelOptions?: grpc.ChannelOptions;
}

/** Between attempts of a unary call (attempt counts from 1): 100–200 ms after the first, the ceiling doubling to 2 s, equal jitter. */
const RETRY_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 2_000, jitter: "equal" };

/** Codes that mean "try again": the server did not act on the request or says it is safe to repeat. */
export const RETRYABLE_CODES: ReadonlySet<grpc.status> = new Set([grpc.status.UNAVAILABLE]);

type UnaryMethod<Req, Res> = (
  req: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, res?: Res) => void,
) => grpc.ClientUnaryCall;

/**
 * The TypeScript client of jq, used by the CLI, the worker SDK and the tests. One channel is
 * shared by the three services. Unary calls get a deadline and are retried with backoff only for
 * retryable codes; every other error reaches the caller as the grpc ServiceError it is.
 */
export class JqClient {
  readonly jobs: JobServiceClient;
  readonly workers: WorkerServiceClient;
  readonly admin: AdminServiceClient;
  private readonly deadlineMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: ClientOptions) {
    const credentials = channelCredentials(options.tls);
    const channelOptions = { "grpc.max_receive_message_length": 64 * 1024 * 1024, ...options.channelOptions };
    this.jobs = new JobServiceClient(options.address, credentials, channelOptions);
    // Share the first client's channel so the three services use one HTTP/2 connection.
    const channelOverride = this.jobs.getChannel();
    this.workers = new WorkerServiceClient(options.address, credentials, { ...channelOptions, channelOverride });
    this.admin = new AdminServiceClient(options.address, credentials, { ...channelOptions, channelOverride });
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  /** Metadata carrying the API key, for streaming calls made on the raw clients. */
  metadata(headers: Readonly<Record<string, string>> = {}): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.options.apiKey) md.set("authorization", `Bearer ${this.options.apiKey}`);
    for (const [name, value] of Object.entries(headers)) md.set(name, value);
    return md;
  }

  /**
   * Calls a unary method with the deadline, the API key and retries:
   * `await client.call(client.jobs, "submitJob", request)`.
   */
  async call<C extends grpc.Client, M extends keyof C & string, Req, Res>(
    service: C,
    method: M,
    request: C[M] extends UnaryMethod<infer Q, infer _R> ? Q & Req : never,
    options: { deadlineMs?: number; signal?: AbortSignal; headers?: Readonly<Record<string, string>> } = {},
  ): Promise<C[M] extends UnaryMethod<infer _Q, infer R> ? R & Res : never> {
    const fn = (service[method] as unknown as UnaryMethod<Req, Res>).bind(service);
    for (let attempt = 1; ; attempt++) {
      try {
        return (await new Promise<Res>((resolve, reject) => {
          const call = fn(
            request as Req,
            this.metadata(options.headers),
            { deadline: new Date(Date.now() + (options.deadlineMs ?? this.deadlineMs)) },
            (err, res) => (err ? reject(err) : resolve(res as Res)),
          );
          options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        })) as never;
      } catch (err) {
        const code = (err as grpc.ServiceError).code;
        if (attempt >= this.maxAttempts || !RETRYABLE_CODES.has(code) || options.signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, RETRY_BACKOFF)));
      }
    }
  }

  close(): void {
    this.jobs.close();
    this.workers.close();
    this.admin.close();
  }
}

function channelCredentials(tls: ClientOptions["tls"]): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (tls === true) return grpc.credentials.createSsl();
  return grpc.credentials.createSsl(
    tls.caFile ? readFileSync(tls.caFile) : null,
    tls.keyFile ? readFileSync(tls.keyFile) : null,
    tls.certFile ? readFileSync(tls.certFile) : null,
  );
}
