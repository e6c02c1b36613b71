import type pg from "pg";
import type { Config } from "../../../libs/config/index.js";
import { claimJobs, handBackUndelivered, type ClaimedJob } from "../../../libs/dispatch/index.js";
import type { HandOffOffer, NewJob, SubmitHandOff, SubmittedJob } from "../../../libs/jobs/index.js";
import type { Logger } from "../../../libs/logging/logger.js";
import { assignmentMessages } from "./assignment-messages.js";
import type { DeliveryMarks } from "./delivery-marks.js";
import { DrainedQueues } from "./drained-queues.js";
import { LimitedQueues } from "./limited-queues.js";
import type { SessionRegistry, WorkerSession } from "./worker-session.js";

/**
 * Fills the job streams this replica holds (SPEC §5). Woken by NOTIFY (jobs available in a queue,
 * a slot freed by a result recorded elsewhere), by local results, by new streams, and by a slow
 * sweep that covers lost notifications and delayed jobs becoming due. Each session is filled by
 * at most one loop at a time:
 *
 *   claim (PENDING → ASSIGNED, one statement) → write to the stream → ASSIGNED → RUNNING (a
 *   delivery mark, written with the job's result or within a fraction of a heartbeat, see
 *   DeliveryMarks); a write that fails hands the job back (DELIVERY_FAILED).
 */
export class Dispatcher implements SubmitHandOff {
  private readonly limited: LimitedQueues;
  private readonly drained = new DrainedQueues();
  /** Sessions woken while being filled: one more fill each, and who waits for it. */
  private readonly refills = new Map<WorkerSession, { readonly done: Promise<void>; readonly resolve: () => void }>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly sessions: SessionRegistry,
    private readonly marks: DeliveryMarks,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly onDispatched: (jobs: number) => void = () => {},
  ) {
    this.limited = new LimitedQueues(pool);
  }

  async start(): Promise<void> {
    await this.limited.refresh();
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.workers.dispatchSweepMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Jobs may have become claimable in `queue`: fills the streams that take it. Resolves true when
   * a claim that started after this wake-up left it drained, so the replica that submitted need
   * not tell the others.
   */
  async wakeQueue(queue: string): Promise<boolean> {
    const wake = this.drained.wake(queue);
    await Promise.all([...this.sessions.ofQueue(queue)].map((s) => this.schedule(s)));
    return this.drained.drainedSince(queue, wake);
  }

  /**
   * Offers this replica's free slots to jobs being submitted here (SubmitHandOff). A job that could
   * start at once (no delay, no idempotency key, a queue without a limit whose last claim here did
   * not come back full) is promised a free slot of a stream of its queue, highest priority first;
   * slots a claim under way may fill are not free. The submit's statement hands the job off only if its
   * queue has nothing older to claim; settling delivers what was handed off and frees the rest.
   * One statement and commit per job instead of two.
   */
  offer(jobs: readonly NewJob[]): HandOffOffer | undefined {
    if (this.stopped) return undefined;
    const workers: (string | null)[] = jobs.map(() => null);
    const promised = new Map<string, WorkerSession>();
    const order = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.priority - jobs[a]!.priority);
    for (const i of order) {
      const job = jobs[i]!;
      if (job.delayMs !== null || job.runAt !== null || job.idempotencyKey !== null || this.limited.current.has(job.queue)) continue;
      // A queue this replica's last claim could not empty likely holds older jobs, and the
      // statement would refuse the hand-off; the slots are better left to the claims that take those.
      if (this.drained.isBacklogged(job.queue)) continue;
      let best: WorkerSession | undefined;
      for (const s of this.sessions.ofQueue(job.queue)) {
        if (s.freeSlots > (best?.freeSlots ?? 0)) best = s;
      }
      if (best === undefined) continue;
      best.reserved++;
      workers[i] = best.workerId;
      promised.set(best.workerId, best);
    }
    if (promised.size === 0) return undefined;
    return {
      workers,
      leaseMs: this.config.workers.assignmentLeaseMs,
      settle: (results) => this.settle(workers, promised, results),
    };
  }

  private settle(workers: readonly (string | null)[], promised: ReadonlyMap<string, WorkerSession>, results: readonly SubmittedJob[] | undefined): void {
    const handed = new Map<WorkerSession, ClaimedJob[]>();
    const returned = new Set<WorkerSession>();
    workers.forEach((workerId, i) => {
      if (workerId === null) return;
      const session = promised.get(workerId)!;
      session.reserved--;
      const r = results?.[i];
      if (r?.handedOff === undefined || r.job.workerId !== workerId) {
        returned.add(session);
        return;
      }
      const list = handed.get(session) ?? [];
      handed.set(session, list);
      list.push(claimedJob(r));
    });
    for (const [session, jobs] of handed) {
      // In the order a claim would have returned them.
      jobs.sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
      const run = this.deliver(session, jobs)
        .then(() => this.onDispatched(jobs.length))
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message, worker: session.workerId }, "hand-off delivery failed; the lease covers it"))
        .finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }
    // Slots promised to jobs that were not handed off are free again.
    for (const session of returned) this.wakeSession(session);
  }

  /** The session has free slots: fill them from its queues not known to be drained. */
  wakeSession(session: WorkerSession): void {
    void this.schedule(session);
  }

  async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.limited.refresh();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "dispatcher sweep could not read queue limits");
    }
    this.drained.forget();
    for (const s of this.sessions.all()) void this.schedule(s);
  }

  /** Fills the session now, or once the fill under way has ended; resolves when that fill has. */
  private schedule(session: WorkerSession): Promise<void> {
    if (this.stopped || session.closed || session.freeSlots === 0) return Promise.resolve();
    if (session.filling) {
      let refill = this.refills.get(session);
      if (refill === undefined) {
        let resolve!: () => void;
        refill = { done: new Promise<void>((r) => (resolve = r)), resolve };
        this.refills.set(session, refill);
      }
      return refill.done;
    }
    session.filling = true;
    const run = this.fill(session).finally(() => {
      this.inFlight.delete(run);
      session.filling = false;
      const refill = this.refills.get(session);
      this.refills.delete(session);
      if (refill) void this.schedule(session).then(refill.resolve);
    });
    this.inFlight.add(run);
    return run;
  }

  private async fill(session: WorkerSession): Promise<void> {
    try {
      for (;;) {
        const free = session.freeSlots;
        if (free === 0 || this.stopped) return;
        const scope = this.drained.claimable(session.queues);
        if (scope.queues.length === 0) return;
        // A claim holds every slot it asks for until it returns, so submits here cannot hand jobs
        // off meanwhile. Unless its last claim came back full (a backlog), a queue is asked for half
        // of the free slots; a full answer asks again for the rest.
        const want = scope.queues.some((q) => this.drained.isBacklogged(q)) ? free : Math.ceil(free / 2);
        const limited = this.limited.current;
        session.claiming = want;
        let jobs: ClaimedJob[];
        try {
          jobs = await claimJobs(
            this.pool,
            { workerId: session.workerId, queues: scope.queues, limit: want, leaseMs: this.config.workers.assignmentLeaseMs },
            limited,
          );
        } finally {
          session.claiming = 0;
        }
        if (jobs.length < want) this.drained.drained(scope, limited);
        else this.drained.full(scope);
        if (jobs.length === 0) return;
        await this.deliver(session, jobs);
        this.onDispatched(jobs.length);
        if (jobs.length < want) return;
      }
    } catch (err) {
      // Postgres unreachable or busy: the next wake-up or sweep tries again.
      this.log.warn({ err: (err as Error).message, worker: session.workerId }, "dispatch failed; will retry");
    }
  }

  private async deliver(session: WorkerSession, jobs: readonly ClaimedJob[]): Promise<void> {
    const written: ClaimedJob[] = [];
    const failed: ClaimedJob[] = [];
    const claimedAt = Date.now();
    // All held at once: a hand-off is delivered outside any fill, and a fill running meanwhile
    // must not count these slots as free.
    for (const job of jobs) {
      session.delivering.set(job.id, job.attempt);
      session.held.set(job.id, job.attempt);
    }
    try {
      for (const { message, jobs: carried } of assignmentMessages(jobs, claimedAt, session.batching)) {
        (await session.write(message) ? written : failed).push(...carried);
      }
      if (written.length > 0) this.marks.add(session, written, new Date());
      if (failed.length > 0) {
        for (const j of failed) session.held.delete(j.id);
        await handBackUndelivered(this.pool, session.workerId, failed.map(ref), "DELIVERY_FAILED", DELIVERY_FAILED_MESSAGE);
      }
    } finally {
      for (const job of jobs) if (session.delivering.get(job.id) === job.attempt) session.delivering.delete(job.id);
    }
  }
}

const ref = (j: ClaimedJob) => ({ jobId: j.id, attempt: j.attempt });

/** The hand-back event's message for a delivery its stream would not take. */
const DELIVERY_FAILED_MESSAGE = "the assignment could not be written to the worker's stream";

/** A job handed off at submit, as its claim would have returned it. */
function claimedJob({ job, handedOff }: SubmittedJob): ClaimedJob {
  return {
    id: job.id,
    queue: job.queue,
    attempt: job.attempt,
    payload: job.payload!,
    metadata: job.metadata,
    priority: job.priority,
    createdAt: job.createdAt,
    retryCount: job.retryCount,
    maxRetries: job.maxRetries ?? handedOff!.queueMaxRetries,
    timeoutSeconds: job.timeoutSeconds ?? handedOff!.queueTimeoutSeconds,
  };
}
