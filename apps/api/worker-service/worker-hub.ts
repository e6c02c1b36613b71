import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { FinishRequest, FinishVerdict } from "../../../libs/attempts/index.js";
import type { Config } from "../../../libs/config/index.js";
import { heldJobs } from "../../../libs/jobs/index.js";
import { DependencyUnavailable } from "../../../libs/errors/index.js";
import type { Logger } from "../../../libs/logging/logger.js";
import {
  JOBS_AVAILABLE_CHANNEL,
  NotificationListener,
  parseJobsAvailable,
  notifyWorkerControl,
  parseWorkerControl,
  WORKER_CONTROL_CHANNEL,
  type WorkerControl,
} from "../../../libs/notifications/index.js";
import { TransitionReason } from "../../../libs/proto/index.js";
import type { Component } from "../../../libs/runtime/index.js";
import { FailedPrecondition } from "../../../libs/errors/index.js";
import { DeliveryMarks } from "./delivery-marks.js";
import { Dispatcher } from "./dispatcher.js";
import { HeartbeatBatcher } from "./heartbeat-batcher.js";
import { ResultBatcher } from "./result-batcher.js";
import { SessionRegistry, type WorkerSession } from "./worker-session.js";

/**
 * Everything apps/api keeps for the workers whose streams it holds: the sessions, the dispatcher
 * that fills them, the batchers that record results and heartbeats, and the LISTEN connection
 * through which other replicas reach this one (jobs available, slots freed, cancellations, drain).
 */
export class WorkerHub implements Component {
  readonly name = "worker-hub";
  readonly sessions = new SessionRegistry();
  readonly dispatcher: Dispatcher;
  readonly results: ResultBatcher;
  readonly marks: DeliveryMarks;
  readonly heartbeats: HeartbeatBatcher;
  /** Closers of the open ReportResults streams, run at shutdown. */
  readonly resultStreams = new Set<() => void>();
  /** Marks this replica's jobs-available NOTIFYs (QueueWaker), which its listener then skips. */
  readonly origin = randomUUID();
  private readonly listener: NotificationListener;
  private stopping = false;

  constructor(
    private readonly pool: pg.Pool,
    databaseUrl: string,
    config: Config,
    private readonly log: Logger,
    onDispatched?: (jobs: number) => void,
  ) {
    this.marks = new DeliveryMarks(pool, deliveryMarkDelayMs(config), (s) => (this.sessions.get(s.workerId) ?? s) === s, log);
    this.dispatcher = new Dispatcher(pool, this.sessions, this.marks, config, log, onDispatched);
    this.results = new ResultBatcher(pool, log, (reqs, verdicts) => this.afterResults(reqs, verdicts), config.database.resultWindowMs);
    this.heartbeats = new HeartbeatBatcher(pool, {
      log,
      graceMs: config.workers.heartbeatTimeoutMs,
      inFlight: (workerId) => [...this.results.inFlightOf(workerId), ...this.marks.pendingOf(workerId), ...this.deliveringTo(workerId)],
      released: (workerIds) => this.slotsFreed(workerIds),
    });
    this.listener = new NotificationListener(
      databaseUrl,
      [JOBS_AVAILABLE_CHANNEL, WORKER_CONTROL_CHANNEL],
      (channel, payload) => this.onNotification(channel, payload),
      () => void this.dispatcher.sweep(),
      log,
    );
  }

  get accepting(): boolean {
    return !this.stopping;
  }

  async start(): Promise<void> {
    await this.listener.start();
    await this.dispatcher.start();
  }

  /** Ends every stream with UNAVAILABLE (workers reconnect elsewhere), then flushes and closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.sessions.all()) s.close(new DependencyUnavailable("this API replica (shutting down); reconnect"));
    await this.dispatcher.stop();
    await this.results.drain();
    await this.marks.stop();
    for (const close of [...this.resultStreams]) close();
    await this.heartbeats.stop();
    await this.listener.stop();
  }

  /**
   * Records a worker's result; a delivery whose RUNNING mark is still pending is marked in the
   * same transaction, with the time it was written to the stream.
   */
  async recordResult(request: FinishRequest): Promise<FinishVerdict> {
    this.release(request);
    const deliveredAt = request.workerId === null ? undefined : this.marks.take(request.jobId, request.attempt);
    if (deliveredAt === undefined) return this.results.record(request);
    try {
      return await this.results.record({ ...request, deliveredAt });
    } catch (err) {
      this.marks.restore(this.sessions.get(request.workerId!), request.jobId, request.attempt, deliveredAt);
      throw err;
    }
  }

  /**
   * A worker that reports a result no longer runs that job: its slot is free now, not once the
   * result is committed, so the next claim overlaps the result's commit instead of following it.
   * Only the attempt the stream holds is released (the caller has checked the worker's secret).
   * Postgres still counts the job as RUNNING until the commit, so `max_concurrency` stays exact;
   * a result whose commit fails is reported again by the SDK (docs/worker-protocol.md).
   */
  private release(request: FinishRequest): void {
    const session = request.workerId === null ? undefined : this.sessions.get(request.workerId);
    if (session?.letGo(request.jobId, request.attempt)) this.dispatcher.wakeSession(session);
  }

  /** Replaces the held set of a session with the database's view, e.g. after a reconnect. */
  async resync(session: WorkerSession): Promise<void> {
    const rows = await heldJobs(this.pool, session.workerId);
    session.held.clear();
    for (const r of rows) session.held.set(r.id, r.attempt);
  }

  /** Deliveries claimed for the worker's stream here and still being written to it. */
  private deliveringTo(workerId: string): { jobId: string; attempt: number }[] {
    return [...(this.sessions.get(workerId)?.delivering ?? [])].map(([jobId, attempt]) => ({ jobId, attempt }));
  }

  /** Jobs of these workers were released: refill their streams here, or tell the replica holding them. */
  private slotsFreed(workerIds: readonly string[]): void {
    for (const worker of workerIds) {
      const session = this.sessions.get(worker);
      if (session) void this.applyControl(session, { kind: "slots", worker });
      else
        notifyWorkerControl(this.pool, { kind: "slots", worker }).catch((err: unknown) =>
          this.log.warn({ err: (err as Error).message }, "could not notify a slot refill; the sweep will refill"),
        );
    }
  }

  private afterResults(requests: readonly FinishRequest[], verdicts: readonly FinishVerdict[]): void {
    const remote = new Set<string>();
    requests.forEach((req, i) => {
      const v = verdicts[i]!;
      // A retry due now is claimable at once, in a queue the dispatcher may have found drained.
      if (v.code === "accepted" && v.status === "PENDING") void this.dispatcher.wakeQueue(v.queue);
      if (req.workerId === null) return;
      const session = this.sessions.get(req.workerId);
      if (session) {
        // Usually let go already when the result arrived (release); again if a resync re-added it.
        if (session.letGo(req.jobId, req.attempt)) this.dispatcher.wakeSession(session);
      } else if (v.code === "accepted") {
        remote.add(req.workerId);
      }
    });
    // The worker's stream is on another replica: tell it the slot is free.
    for (const worker of remote) {
      notifyWorkerControl(this.pool, { kind: "slots", worker }).catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, "could not notify a slot refill; the sweep will refill"),
      );
    }
  }

  private onNotification(channel: string, payload: string): void {
    if (channel === JOBS_AVAILABLE_CHANNEL) {
      const { queue, origin } = parseJobsAvailable(payload);
      // This replica's own wake-up: its streams were filled before it was sent.
      if (origin !== this.origin) void this.dispatcher.wakeQueue(queue);
      return;
    }
    const control = parseWorkerControl(payload);
    const session = control && this.sessions.get(control.worker);
    if (control && session) void this.applyControl(session, control);
  }

  private async applyControl(session: WorkerSession, c: WorkerControl): Promise<void> {
    switch (c.kind) {
      case "slots":
        await this.resync(session).catch(() => {});
        this.dispatcher.wakeSession(session);
        return;
      case "cancel":
        session.letGo(c.job, c.attempt);
        await session.write({
          kind: {
            $case: "cancellation",
            value: { jobId: c.job, attempt: c.attempt, reason: TransitionReason[c.reason as keyof typeof TransitionReason] ?? TransitionReason.UNSPECIFIED, message: c.message },
          },
        });
        this.dispatcher.wakeSession(session);
        return;
      case "drain":
        await session.drain("DrainWorker was called");
        return;
      case "offline":
        session.close(new FailedPrecondition(`worker ${session.workerId} is OFFLINE; register again`));
        return;
    }
  }
}

/**
 * How long a delivery's RUNNING mark may wait for its result (JQ_DELIVERY_MARK_DELAY_MS), kept
 * well inside the assignment lease and one heartbeat interval, so GetJobStatus is RUNNING within
 * one heartbeat and the lease never expires on a delivered job.
 */
export function deliveryMarkDelayMs(config: Config): number {
  return Math.max(1, Math.min(config.workers.deliveryMarkDelayMs, config.workers.assignmentLeaseMs / 4, config.workers.heartbeatIntervalMs / 2));
}
