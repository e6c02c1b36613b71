/**
 * The TypeScript worker SDK of jq (SPEC §4, §10): `new Worker({ address, queues, handler })`.
 * Usage, guarantees and options: docs/worker-sdk.md.
 *
 *   Worker (worker.ts) ── decides: lifecycle, drain/close, what a lost stream means
 *     ├─ WorkerSession  (session.ts)          RegisterWorker, Heartbeat, Deregister; id and epoch
 *     ├─ JobStream      (job-stream.ts)       StreamJobs: assignments, cancellations, drain
 *     ├─ JobRunner      (job-runner.ts)       handlers, ≤ concurrency, signals and deadlines
 *     ├─ ResultReporter (result-reporter.ts)  ReportResults: sequence ⇄ ack, resend after a reconnect
 *     │    ├─ UnackedResults (unacked-results.ts)  pure ack bookkeeping
 *     │    └─ OutgoingResults (result-batches.ts)  results of one turn in one message, if the server allows
 *     ├─ HeartbeatLoop  (heartbeat.ts)        held jobs out, cancellations and drain in
 *     └─ Reconnector    (reconnector.ts)      one reconnect at a time; ReconnectBackoff (backoff.ts)
 *   pure: result-encoding.ts (handler output → JobResult), events.ts (ack → outcome), options.ts
 *
 * Owns only the client side of WorkerService; talks to the server through libs/client and the
 * generated contract in libs/proto, never through server code.
 */
export { Worker } from "./worker.js";
export { NonRetryableError, JobAbortedError, type AbortKind } from "./errors.js";
export type { Job, JobContext, JobHandler, WorkerLogger, WorkerOptions } from "./options.js";
export type { JobDoneEvent, JobOutcome, ReconnectEvent, RegisteredEvent, WorkerEvents, WorkerStats } from "./events.js";
export type { HandlerOutput } from "./result-encoding.js";
export type { ReconnectPolicy } from "./backoff.js";
export { SDK_VERSION } from "./version.js";
