import type pg from "pg";
import { markDelivered, type DeliveryMark } from "../../../libs/dispatch/index.js";
import type { Logger } from "../../../libs/logging/logger.js";
import type { WorkerSession } from "./worker-session.js";

interface PendingMark extends DeliveryMark {
  /** The stream the job was written to: a mark for a replaced stream is dropped (SPEC §5). */
  readonly session: WorkerSession;
  /** When it was added (performance.now()): it is written once it is `delayMs` old. */
  readonly addedAt: number;
}

/**
 * The ASSIGNED → RUNNING marks of deliveries written to this replica's streams, held for up to
 * `delayMs` before they are written in one statement (docs/write-path.md). A result that arrives
 * meanwhile takes its job's mark (`take`) and records the DELIVERED event in its own transaction,
 * with the time of the write, so a short job costs no RUNNING write at all. GetJobStatus shows
 * RUNNING at most `delayMs` late, which is kept below one heartbeat interval.
 *
 * A mark whose stream has been replaced by a newer one is not written (SPEC §5: a delivery is
 * fenced by the stream's generation): the job stays ASSIGNED for its worker, which either reports
 * it (its result proves the delivery) or loses it to the heartbeat reconciliation or the
 * assignment lease, so a job is never left RUNNING for a stream that may never have carried it.
 * A stream that ends, and a worker that deregisters or registers again, have their marks written
 * at once (`flushWorker`), so what they held is released as the RUNNING jobs it was.
 */
export class DeliveryMarks {
  private readonly pending = new Map<string, PendingMark>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly delayMs: number,
    private readonly isCurrent: (session: WorkerSession) => boolean,
    private readonly log: Logger,
  ) {}

  /** Deliveries just written to `session`'s stream. */
  add(session: WorkerSession, jobs: readonly { id: string; attempt: number }[], deliveredAt: Date): void {
    const addedAt = performance.now();
    for (const j of jobs) {
      // Re-added (restored): it goes to the back, so the map stays in order of addedAt.
      this.pending.delete(j.id);
      this.pending.set(j.id, { jobId: j.id, attempt: j.attempt, workerId: session.workerId, deliveredAt, session, addedAt });
    }
    this.schedule();
  }

  /**
   * One timer, for the oldest pending mark. Each mark waits its own full delay: a timer that wrote
   * every pending mark when the first one was due would write marks a moment old, whose results
   * were about to take them (under steady load, a tenth of all jobs got a RUNNING write of their own).
   */
  private schedule(): void {
    if (this.timer !== undefined) return;
    const oldest = this.pending.values().next();
    if (oldest.done) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.serially(() => this.writePending((m) => performance.now() - m.addedAt >= this.delayMs - 1))
        .catch(() => {})
        .then(() => this.schedule());
    }, Math.max(0, oldest.value.addedAt + this.delayMs - performance.now()));
  }

  /** The delivery time of (job, attempt) if its mark is still pending; the mark is then the caller's to write. */
  take(jobId: string, attempt: number): Date | undefined {
    const mark = this.pending.get(jobId);
    if (mark?.attempt !== attempt) return undefined;
    this.pending.delete(jobId);
    return mark.deliveredAt;
  }

  /** The deliveries to `workerId` whose RUNNING marks are still pending here (just written). */
  pendingOf(workerId: string): { jobId: string; attempt: number }[] {
    return [...this.pending.values()].filter((m) => m.workerId === workerId).map((m) => ({ jobId: m.jobId, attempt: m.attempt }));
  }

  /** Puts back a mark taken by a result that could not be recorded. */
  restore(session: WorkerSession | undefined, jobId: string, attempt: number, deliveredAt: Date): void {
    if (session) this.add(session, [{ id: jobId, attempt }], deliveredAt);
  }

  /** Writes every pending mark now (shutdown, tests). */
  flush(): Promise<void> {
    return this.serially(() => this.writePending(() => true));
  }

  /** Writes the pending marks of one worker now: its stream ended, or it deregisters. */
  flushWorker(workerId: string): Promise<void> {
    return this.serially(() => this.writePending((m) => m.workerId === workerId));
  }

  private serially(write: () => Promise<void>): Promise<void> {
    const next = this.flushing.then(write);
    this.flushing = next.catch(() => {});
    return next;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => {});
  }

  private async writePending(which: (m: PendingMark) => boolean): Promise<void> {
    const marks = [...this.pending.values()].filter(which);
    if (marks.length === 0) return;
    for (const m of marks) this.pending.delete(m.jobId);
    const live = marks.filter((m) => this.isCurrent(m.session));
    try {
      await markDelivered(this.pool, live);
    } catch (err) {
      // Try again with the next flush; a result arriving meanwhile still takes its mark.
      this.log.warn({ err: (err as Error).message, marks: live.length }, "could not mark deliveries RUNNING; retrying");
      for (const m of live) if (!this.pending.has(m.jobId)) this.add(m.session, [{ id: m.jobId, attempt: m.attempt }], m.deliveredAt);
    }
  }
}
