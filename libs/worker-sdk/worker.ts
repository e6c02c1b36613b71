import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import type { JqClient } from "../client/index.js";
import { ResultAckCode, TransitionReason, type JobAssignment, type JobAttemptRef, type JobCancellation, type ReportResultsResponse } from "../proto/index.js";
import { ReconnectBackoff } from "./backoff.js";
import { JobAbortedError } from "./errors.js";
import { outcomeOfAck, type WorkerEvents, type WorkerStats } from "./events.js";
import { positiveDurationMs } from "../wire/from-wire.js";
import { HeartbeatLoop } from "./heartbeat.js";
import { deliveryKey, JobRunner } from "./job-runner.js";
import { JobStream } from "./job-stream.js";
import { createWorkerClient, resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerLogger, type WorkerOptions } from "./options.js";
import { isLostCode, Reconnector, type Recovery } from "./reconnector.js";
import { ResultReporter, type PendingResult } from "./result-reporter.js";
import { WorkerSession } from "./session.js";

type State = "new" | "starting" | "running" | "stopping" | "closed";

const HEARTBEAT_RETRY_MS = 2_000;
const END_STREAM_TIMEOUT_MS = 2_000;

/**
 * A jq worker: registers, takes jobs from its queues over StreamJobs, runs `handler` for each
 * (at most `concurrency` at once), reports results over ReportResults, heartbeats, reconnects,
 * and drains or closes gracefully. See docs/worker-sdk.md for the guarantees.
 *
 * This class decides; its parts act: WorkerSession (unary RPCs), JobStream, JobRunner,
 * ResultReporter, HeartbeatLoop and Reconnector.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  /** Resolves once a drain requested by the server (DrainWorker) has completed. */
  readonly drained: Promise<void>;
  private resolveDrained: () => void = () => {};

  private readonly options: ResolvedWorkerOptions;
  private readonly log: WorkerLogger;
  private readonly client: JqClient;
  private readonly ownsClient: boolean;
  private readonly session: WorkerSession;
  private readonly runner: JobRunner;
  private readonly reporter: ResultReporter;
  private readonly jobStream: JobStream;
  private readonly heartbeat: HeartbeatLoop;
  private readonly reconnector: Reconnector;
  private readonly counts = { received: 0, succeeded: 0, failed: 0, stale: 0, invalid: 0, cancelled: 0, reconnects: 0 };

  private state: State = "new";
  private startPromise: Promise<void> | undefined;
  /** A stream that broke after it opened but before start() finished. */
  private startFailure: unknown;
  private drainRequested = false;
  private closePromise: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  /** Aborted when close() stops waiting for handlers (closeTimeoutMs). */
  private readonly giveUp = new AbortController();
  private closeTimer: NodeJS.Timeout | undefined;
  private jobStreamWanted = true;

  constructor(options: WorkerOptions) {
    super();
    this.options = resolveWorkerOptions(options);
    this.log = this.options.logger;
    this.drained = new Promise((resolve) => (this.resolveDrained = resolve));
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? createWorkerClient(options, this.options.reconnect);
    this.session = new WorkerSession(this.client, this.options, this.log);
    const workerId = () => this.session.id ?? "";
    // The streams carry the registration's secret, read afresh each time a stream opens.
    const rpc = { workers: this.client.workers, metadata: () => this.session.metadata() };
    const grace = this.options.streamReadyGraceMs;
    this.runner = new JobRunner(
      { concurrency: this.options.concurrency, handler: this.options.handler, workerId, logger: this.log },
      { onResult: (key, result) => this.reporter.report({ key, result }), onVoided: (ref, reason) => this.onVoided(ref, reason) },
    );
    this.reporter = new ResultReporter(
      rpc,
      workerId,
      { onAck: (item, ack) => this.onAck(item, ack), onEnd: (error) => this.onStreamEnd("ReportResults", error) },
      this.log,
      grace,
    );
    this.jobStream = new JobStream(
      rpc,
      {
        onAssignment: (a) => this.onAssignment(a),
        onCancellation: (c) => this.onCancellation(c),
        onDrain: (notice) => this.onDrainRequested(`drain notice: ${notice.message}`),
        onEnd: (error) => this.onStreamEnd("StreamJobs", error),
      },
      grace,
    );
    this.heartbeat = new HeartbeatLoop(
      (signal) => this.beat(signal),
      () => Math.min(this.session.heartbeatIntervalMs, HEARTBEAT_RETRY_MS),
    );
    this.reconnector = new Reconnector(
      {
        closeStreams: () => {
          this.jobStream.cancel();
          this.reporter.cancel();
        },
        sessionAlive: (signal) => this.sessionAlive(signal),
        recoverLostSession: (signal) => this.recoverLostSession(signal),
        openStreams: () => this.openStreams(),
        reconnected: (cause) => this.onReconnected(cause),
      },
      new ReconnectBackoff(this.options.reconnect),
      this.log,
    );
  }

  /** The worker's id: the one given, or the server's after start(). */
  get id(): string | undefined {
    return this.session.id;
  }

  get stats(): WorkerStats {
    const unacked = this.reporter.unacked;
    const held = this.runner.heldRefs().length + unacked;
    return { ...this.counts, registrations: this.session.registrations, inFlight: this.runner.inFlight, held, unacked };
  }

  /** Registers and opens both streams; rejects (leaving nothing open) if any of it fails. */
  start(): Promise<void> {
    if (this.state === "stopping" || this.state === "closed") return Promise.reject(new Error("the worker is closed"));
    this.startPromise ??= this.startOnce();
    return this.startPromise;
  }

  /**
   * Graceful stop: no new jobs, running handlers finish (aborted after closeTimeoutMs), results
   * are flushed, the worker deregisters, every stream, timer and owned connection is closed.
   * Safe to call twice, before start() and during a drain.
   */
  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────

  private async startOnce(): Promise<void> {
    this.state = "starting";
    try {
      await this.session.releasePreviousProcess();
      await this.register();
      this.heartbeat.start(this.session.heartbeatIntervalMs);
      await Promise.all([this.reporter.open(), this.jobStream.open(this.session.requireId())]);
      if (this.startFailure !== undefined) throw this.startFailure;
    } catch (error) {
      this.log.error({ err: errorMessage(error) }, "worker failed to start");
      await this.release();
      throw error;
    }
    this.reconnector.connected();
    this.state = "running";
    this.log.info({ workerId: this.id, queues: this.options.queues, concurrency: this.options.concurrency }, "worker started");
    if (this.drainRequested) this.onDrainRequested("drain requested during start");
  }

  private async closeOnce(): Promise<void> {
    if (this.state === "new") return this.finish();
    await this.startPromise?.catch(() => undefined);
    if (this.state === "closed") return;
    this.closeTimer = setTimeout(() => this.giveUp.abort(), this.options.closeTimeoutMs);
    this.jobStreamWanted = false;
    this.jobStream.cancel();
    await this.shutdown("close");
  }

  private onDrainRequested(why: string): void {
    if (this.state === "starting") this.drainRequested = true;
    if (this.state !== "running") return;
    this.log.info({ workerId: this.id, why }, "draining: finishing held jobs, then deregistering");
    void this.shutdown("drain");
  }

  private shutdown(reason: "close" | "drain"): Promise<void> {
    this.shutdownPromise ??= this.shutdownOnce(reason);
    return this.shutdownPromise;
  }

  /**
   * Handlers finish → job stream closed → results acknowledged → heartbeats and reconnects stop
   * → Deregister → ReportResults ended → client closed. Each step handles its own errors, so
   * shutdown always completes. During a drain the job stream stays open until the handlers are
   * done, for cancellations; the server sends no new jobs to a draining worker.
   */
  private async shutdownOnce(reason: "close" | "drain"): Promise<void> {
    this.state = "stopping";
    await this.waitForHandlers();
    this.jobStreamWanted = false;
    this.jobStream.cancel();
    if (!(await this.reporter.flushed(this.options.flushTimeoutMs))) {
      this.log.warn({ unacked: this.reporter.unacked }, "results still unacknowledged at shutdown; their jobs will be retried");
    }
    await this.heartbeat.stop();
    await this.reconnector.end();
    await this.deregister();
    await this.reporter.end(END_STREAM_TIMEOUT_MS);
    this.finish();
    this.log.info({ workerId: this.id, reason, stats: this.stats }, "worker closed");
    if (reason === "drain") {
      this.notify("drain");
      this.resolveDrained();
    }
  }

  private async waitForHandlers(): Promise<void> {
    const gaveUp = new Promise<void>((resolve) => {
      if (this.giveUp.signal.aborted) resolve();
      this.giveUp.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([this.runner.idle(), gaveUp]);
    if (this.runner.inFlight > 0 || this.runner.heldRefs().length > 0) {
      this.log.warn({ inFlight: this.runner.inFlight }, "close timeout: aborting running jobs; Deregister hands them back");
      this.runner.abandonAll(new JobAbortedError("closing", "the worker is closing and stopped waiting for this job"));
    }
  }

  /** Undoes a failed start. */
  private async release(): Promise<void> {
    this.state = "stopping";
    await this.heartbeat.stop();
    await this.reconnector.end();
    this.jobStream.cancel();
    this.reporter.cancel();
    await this.deregister();
    this.finish();
  }

  private finish(): void {
    this.state = "closed";
    void this.reconnector.end();
    this.jobStreamWanted = false;
    clearTimeout(this.closeTimer);
    this.jobStream.cancel();
    this.reporter.cancel();
    if (this.ownsClient) this.client.close();
  }

  // ── session ───────────────────────────────────────────────────────────────────────────────

  private async register(signal?: AbortSignal): Promise<void> {
    const response = await this.session.register(signal);
    const workerId = this.session.requireId();
    this.notify("registered", { workerId, reregistration: this.session.registrations > 1, unknownQueues: response.unknownQueues });
  }

  private async deregister(): Promise<void> {
    try {
      await this.session.deregister();
    } catch (error) {
      this.log.warn({ workerId: this.id, err: errorMessage(error) }, "Deregister failed; the server will time the worker out");
      this.notifyError(error);
    }
  }

  /** One heartbeat with the held deliveries; applies the reply and returns the delay until the next. */
  private async sendHeartbeat(signal?: AbortSignal): Promise<number> {
    const reply = await this.session.heartbeat([...this.runner.heldRefs(), ...this.reporter.refs()], signal);
    for (const cancellation of reply.cancellations) this.onCancellation(cancellation);
    if (reply.drain) this.onDrainRequested("heartbeat reply");
    return positiveDurationMs(reply.nextHeartbeatIn) ?? this.session.heartbeatIntervalMs;
  }

  private async beat(signal: AbortSignal): Promise<number> {
    const epoch = this.session.epoch;
    try {
      return await this.sendHeartbeat(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      // A refusal about a session that has since registered again is old news.
      if (isLostCode(error) && epoch === this.session.epoch) {
        this.log.warn({ workerId: this.id, err: errorMessage(error) }, "the server declared this worker lost; registering again");
        this.requestRecovery("lost", error);
      } else {
        this.log.warn({ err: errorMessage(error) }, "heartbeat failed");
      }
      throw error;
    }
  }

  // ── jobs and results ──────────────────────────────────────────────────────────────────────

  private onAssignment(assignment: JobAssignment): void {
    const key = deliveryKey(assignment.jobId, assignment.attempt);
    if (this.runner.has(key) || this.reporter.has(key)) {
      this.log.debug({ jobId: assignment.jobId, attempt: assignment.attempt }, "repeated assignment of a held delivery; ignored");
      return;
    }
    if (this.runner.accept(assignment)) this.counts.received++;
  }

  private onCancellation(c: JobCancellation): void {
    const why = c.message || `cancelled by the server (${TransitionReason[c.reason] ?? c.reason})`;
    this.runner.cancel(c.jobId, c.attempt, new JobAbortedError("cancelled", why));
  }

  private onVoided(ref: JobAttemptRef, reason: JobAbortedError): void {
    this.counts.cancelled++;
    this.log.info({ ...ref, kind: reason.kind, why: reason.message }, "job aborted; its result will not be sent");
    this.notify("job:done", { ...ref, outcome: "cancelled", message: reason.message });
  }

  private onAck({ result }: PendingResult, ack: ReportResultsResponse): void {
    const ref = { jobId: result.jobId, attempt: result.attempt };
    const outcome = outcomeOfAck(result, ack.code);
    this.counts[outcome]++;
    const code = ResultAckCode[ack.code] ?? String(ack.code);
    if (outcome === "stale") this.log.info({ ...ref, code, detail: ack.message }, "result refused; nothing recorded");
    if (outcome === "invalid") {
      this.log.error({ ...ref, code, detail: ack.message }, "result refused as invalid");
      this.notifyError(new Error(`result of job ${ref.jobId} attempt ${ref.attempt} refused (${code}): ${ack.message}`));
    }
    const jobStatus = ack.code === ResultAckCode.ACCEPTED ? ack.jobStatus : undefined;
    this.notify("job:done", { ...ref, outcome, ackCode: ack.code, jobStatus, message: ack.message || undefined });
  }

  // ── reconnecting ──────────────────────────────────────────────────────────────────────────

  private onStreamEnd(stream: "StreamJobs" | "ReportResults", error: grpc.ServiceError | undefined): void {
    const cause = error ?? new Error(`${stream} was ended by the server`);
    if (this.state === "starting") {
      this.startFailure ??= cause;
      return;
    }
    this.log.warn({ stream, code: error?.code, err: errorMessage(cause) }, "stream lost; reconnecting");
    this.requestRecovery(isLostCode(error) ? "suspect" : "transient", cause);
  }

  private requestRecovery(kind: Recovery, cause: unknown): void {
    if (kind === "lost" && !this.reconnector.isEnded) this.voidLostDeliveries();
    this.reconnector.request(kind, cause);
  }

  private async openStreams(): Promise<void> {
    const opening = [this.reporter.open()];
    if (this.jobStreamWanted) opening.push(this.jobStream.open(this.session.requireId()));
    await Promise.all(opening);
  }

  private onReconnected(cause: unknown): void {
    this.counts.reconnects++;
    this.log.info({ workerId: this.id, reconnects: this.counts.reconnects, unacked: this.reporter.unacked }, "reconnected");
    this.notify("reconnect", { reconnects: this.counts.reconnects, cause });
  }

  /** Asks Heartbeat whether the server still has this worker. */
  private async sessionAlive(signal: AbortSignal): Promise<boolean> {
    try {
      await this.sendHeartbeat(signal);
      return true;
    } catch (error) {
      if (isLostCode(error)) return false;
      throw error;
    }
  }

  /** The server handed our jobs back: drop them and register again under the same id. */
  private async recoverLostSession(signal: AbortSignal): Promise<void> {
    this.voidLostDeliveries();
    if (this.state === "stopping") {
      // Shutting down anyway: nothing to register for; results in flight come back STALE.
      this.jobStreamWanted = false;
      return;
    }
    await this.register(signal);
  }

  private voidLostDeliveries(): void {
    this.runner.voidAll(new JobAbortedError("worker-lost", "the server declared this worker lost and handed its jobs back"));
  }

  // ── events ────────────────────────────────────────────────────────────────────────────────

  /** Emits without letting a listener's exception into the worker's own flow. */
  private notify<K extends keyof WorkerEvents>(event: K, ...args: WorkerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: WorkerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.log.error({ event, err: errorMessage(error) }, "a worker event listener threw");
    }
  }

  /** "error" is emitted only when someone listens: an unheard "error" would crash the process. */
  private notifyError(error: unknown): void {
    if (this.listenerCount("error") > 0) this.notify("error", error instanceof Error ? error : new Error(String(error)));
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
