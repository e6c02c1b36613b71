import { hostname as osHostname } from "node:os";
import type * as grpc from "@grpc/grpc-js";
import { JqClient, type ClientOptions } from "../client/index.js";
import { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from "./backoff.js";
import type { HandlerOutput } from "./result-encoding.js";

/** One delivery of a job, as the handler sees it. */
export interface Job {
  readonly id: string;
  readonly queue: string;
  /** Attempt number of this delivery (1 for the first): the fencing token its result quotes. */
  readonly attempt: number;
  readonly payload: Buffer;
  readonly metadata: Readonly<Record<string, string>>;
  readonly priority: number;
  /** When the execution timeout passes (absent when the job has none). */
  readonly deadline: Date | undefined;
  readonly createdAt: Date | undefined;
  /** Failed attempts so far; `retryCount >= maxRetries` means this is the last try. */
  readonly retryCount: number;
  readonly maxRetries: number;
}

export interface JobContext {
  /** Aborted when the deadline passes, the server cancels the delivery, or close() gives up. */
  readonly signal: AbortSignal;
  readonly deadline: Date | undefined;
  readonly attempt: number;
  readonly workerId: string;
}

/** Returns the result (bytes, UTF-8 text or nothing); throws to fail the attempt. */
export type JobHandler = (job: Job, context: JobContext) => Promise<HandlerOutput> | HandlerOutput;

/** pino-style: `logger.warn({ jobId }, "message")`. A pino logger or `console` fits. */
export interface WorkerLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface WorkerOptions {
  /** `host:port` of the API (or its load balancer); give this or `client`. */
  readonly address?: string;
  /** A client to share; the worker then does not close it. */
  readonly client?: JqClient;
  /** For the client the worker creates from `address`. */
  readonly apiKey?: string;
  readonly tls?: ClientOptions["tls"];
  /** Extra channel options; keepalive (2 s, 2 s timeout) is on by default. */
  readonly channelOptions?: ClientOptions["channelOptions"];

  /** Queues to take jobs from (1 to 100). */
  readonly queues: readonly string[];
  /** Jobs run at once (1 to 1000); default 1. */
  readonly concurrency?: number;
  /** Keep this identity across restarts (a UUID); default: the server assigns one. */
  readonly workerId?: string;
  /** Default `os.hostname()`. */
  readonly hostname?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly handler: JobHandler;
  /** Default: silent. */
  readonly logger?: WorkerLogger;

  /** How long close() waits for running handlers before aborting them; default 30 s. */
  readonly closeTimeoutMs?: number;
  /** How long shutdown waits for the acknowledgements of sent results; default 10 s. */
  readonly flushTimeoutMs?: number;
  /** Reconnect backoff; default 100 ms doubling to 5 s, with jitter. */
  readonly reconnect?: Partial<ReconnectPolicy>;
  /**
   * A stream counts as open when the server sends its headers or a first message, or when it
   * has stayed up this long without an error (servers that send nothing until they have
   * something to say); default 250 ms.
   */
  readonly streamReadyGraceMs?: number;
}

export interface ResolvedWorkerOptions {
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly workerId: string | undefined;
  readonly hostname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly handler: JobHandler;
  readonly logger: WorkerLogger;
  readonly closeTimeoutMs: number;
  readonly flushTimeoutMs: number;
  readonly reconnect: ReconnectPolicy;
  readonly streamReadyGraceMs: number;
}

const MAX_CONCURRENCY = 1000;
const MAX_QUEUES = 100;

export const SILENT_LOGGER: WorkerLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Checks the options (naming the bad one) and fills in defaults. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  if (options.address === undefined && options.client === undefined) throw new TypeError("Worker: give `address` or `client`");
  if (!Array.isArray(options.queues) || options.queues.length === 0 || options.queues.length > MAX_QUEUES) {
    throw new RangeError(`Worker: \`queues\` must list 1 to ${MAX_QUEUES} queue names`);
  }
  if (typeof options.handler !== "function") throw new TypeError("Worker: `handler` must be a function");
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new RangeError(`Worker: \`concurrency\` must be an integer from 1 to ${MAX_CONCURRENCY}, got ${concurrency}`);
  }
  const reconnect = { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect };
  if (reconnect.initialDelayMs <= 0 || reconnect.maxDelayMs < reconnect.initialDelayMs) {
    throw new RangeError("Worker: `reconnect` needs 0 < initialDelayMs <= maxDelayMs");
  }
  return Object.freeze({
    queues: Object.freeze([...options.queues]),
    concurrency,
    workerId: options.workerId || undefined,
    hostname: options.hostname ?? osHostname(),
    labels: Object.freeze({ ...options.labels }),
    handler: options.handler,
    logger: options.logger ?? SILENT_LOGGER,
    closeTimeoutMs: nonNegative("closeTimeoutMs", options.closeTimeoutMs ?? 30_000),
    flushTimeoutMs: nonNegative("flushTimeoutMs", options.flushTimeoutMs ?? 10_000),
    reconnect,
    streamReadyGraceMs: nonNegative("streamReadyGraceMs", options.streamReadyGraceMs ?? 250),
  });
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`Worker: \`${name}\` must be a finite number >= 0, got ${value}`);
  return value;
}

/**
 * The client a worker creates from `address`. Keepalive notices a dead or frozen replica under an
 * idle stream within about 4 s (a ping every 2 s, 2 s to answer; the API permits pings every 1 s,
 * JQ_GRPC_MIN_PING_INTERVAL_MS): the channel then reconnects, to another replica when `address`
 * names several (a DNS name or `ipv4:host:port,host:port`). grpc-js retries a lost connection with its own
 * backoff, up to 120 s by default: the worker would stay away that long after an outage whatever
 * its reconnect policy, so the channel follows that policy.
 */
export function createWorkerClient(options: WorkerOptions, reconnect: ReconnectPolicy): JqClient {
  const channelDefaults: grpc.ChannelOptions = {
    "grpc.keepalive_time_ms": 2_000,
    "grpc.keepalive_timeout_ms": 2_000,
    "grpc.keepalive_permit_without_calls": 1,
    // With several addresses, keep a connection to each and use the ready ones: a replica that
    // stops answering pings is dropped and the streams reopen on another at once.
    "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    "grpc.initial_reconnect_backoff_ms": reconnect.initialDelayMs,
    "grpc.max_reconnect_backoff_ms": reconnect.maxDelayMs,
  };
  return new JqClient({
    address: options.address ?? "",
    apiKey: options.apiKey,
    tls: options.tls,
    channelOptions: { ...channelDefaults, ...options.channelOptions },
  });
}
