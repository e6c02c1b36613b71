import type { JobAssignment, JobAttemptRef, JobResult } from "../proto/index.js";
import { JobAbortedError } from "./errors.js";
import type { Job, JobHandler, WorkerLogger } from "./options.js";
import { failureResult, successResult } from "./result-encoding.js";

/** The key of one delivery: a job and the attempt that names it. */
export function deliveryKey(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

export interface JobRunnerHooks {
  /** The handler settled (or the deadline passed before it could start): report this. */
  onResult(key: string, result: JobResult): void;
  /** The delivery was voided: its result will never be sent. */
  onVoided(ref: JobAttemptRef, reason: JobAbortedError): void;
}

interface Delivery {
  readonly key: string;
  readonly job: Job;
  readonly controller: AbortController;
  voided: boolean;
  deadlineTimer: NodeJS.Timeout | undefined;
}

/** setTimeout's largest delay; a deadline further away than ~24.8 days gets no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs handlers for the deliveries the stream brings, never more than `concurrency` at once: the
 * server should not send more, but a cancelled handler that ignores its signal still occupies a
 * slot the server already counts as free, so extra deliveries wait here.
 *
 * A delivery is *held* from its arrival until its handler settles (then the result reporter holds
 * it) or until it is voided — cancelled by the server, or dropped because the worker was lost or
 * close() gave up — after which its result is never sent.
 */
export class JobRunner {
  /** Held deliveries: waiting or running, not voided. */
  private readonly held = new Map<string, Delivery>();
  private readonly waiting: Delivery[] = [];
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly options: {
      readonly concurrency: number;
      readonly handler: JobHandler;
      readonly workerId: () => string;
      readonly logger: WorkerLogger;
      readonly now?: () => number;
    },
    private readonly hooks: JobRunnerHooks,
  ) {}

  /** Handlers running now, voided ones included. */
  get inFlight(): number {
    return this.running;
  }

  has(key: string): boolean {
    return this.held.has(key);
  }

  heldRefs(): JobAttemptRef[] {
    return [...this.held.values()].map(({ job }) => ({ jobId: job.id, attempt: job.attempt }));
  }

  /** Takes a delivery; false (and not run) once close() has abandoned the runner. */
  accept(assignment: JobAssignment): boolean {
    if (this.closed) {
      this.options.logger.warn({ jobId: assignment.jobId, attempt: assignment.attempt }, "assignment after close; not run");
      return false;
    }
    const job = jobOf(assignment);
    const delivery: Delivery = { key: deliveryKey(job.id, job.attempt), job, controller: new AbortController(), voided: false, deadlineTimer: undefined };
    this.held.set(delivery.key, delivery);
    this.waiting.push(delivery);
    this.pump();
    return true;
  }

  /** Voids the held deliveries of `jobId` up to `attempt` (an older attempt is void anyway). */
  cancel(jobId: string, attempt: number, reason: JobAbortedError): void {
    for (const d of [...this.held.values()]) if (d.job.id === jobId && d.job.attempt <= attempt) this.void(d, reason);
  }

  voidAll(reason: JobAbortedError): void {
    // Void them all before pumping, so no waiting delivery starts only to be aborted.
    for (const d of [...this.held.values()]) this.void(d, reason, false);
    this.pump();
  }

  /** close() stopped waiting: voids everything held and runs nothing more. */
  abandonAll(reason: JobAbortedError): void {
    this.closed = true;
    this.voidAll(reason);
  }

  /** Resolves when no handler runs and none waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.waiting.length > 0) this.start(this.waiting.shift() as Delivery);
    if (this.running === 0 && this.waiting.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private start(d: Delivery): void {
    const ref = { jobId: d.job.id, attempt: d.job.attempt };
    const untilDeadline = d.job.deadline ? d.job.deadline.getTime() - (this.options.now ?? Date.now)() : undefined;
    if (untilDeadline !== undefined && untilDeadline <= 0) {
      // Waited here past its deadline: report the failure and let the server decide (late = STALE).
      this.held.delete(d.key);
      this.hooks.onResult(d.key, failureResult(ref, new JobAbortedError("deadline", "the execution deadline passed before the job started")));
      return;
    }
    this.running++;
    if (untilDeadline !== undefined && untilDeadline <= MAX_TIMER_MS) {
      d.deadlineTimer = setTimeout(() => d.controller.abort(new JobAbortedError("deadline", "the execution deadline passed")), untilDeadline);
    }
    const context = { signal: d.controller.signal, deadline: d.job.deadline, attempt: d.job.attempt, workerId: this.options.workerId() };
    Promise.resolve()
      .then(() => this.options.handler(d.job, context))
      .then(
        (output) => this.settle(d, () => successResult(ref, output)),
        (error: unknown) => this.settle(d, () => failureResult(ref, error)),
      );
  }

  private settle(d: Delivery, result: () => JobResult): void {
    clearTimeout(d.deadlineTimer);
    this.running--;
    if (!d.voided) {
      this.held.delete(d.key);
      let outcome: JobResult;
      try {
        outcome = result();
      } catch (error) {
        // The handler returned something that is not a result (see resultBytes): a failure.
        outcome = failureResult({ jobId: d.job.id, attempt: d.job.attempt }, error);
      }
      this.hooks.onResult(d.key, outcome);
    }
    this.pump();
  }

  private void(d: Delivery, reason: JobAbortedError, pump = true): void {
    if (d.voided) return;
    d.voided = true;
    this.held.delete(d.key);
    clearTimeout(d.deadlineTimer);
    const index = this.waiting.indexOf(d);
    if (index >= 0) this.waiting.splice(index, 1);
    d.controller.abort(reason);
    this.hooks.onVoided({ jobId: d.job.id, attempt: d.job.attempt }, reason);
    if (pump) this.pump();
  }
}

function jobOf(a: JobAssignment): Job {
  return {
    id: a.jobId,
    queue: a.queue,
    attempt: a.attempt,
    payload: a.payload,
    metadata: a.metadata,
    priority: a.priority,
    deadline: a.deadline,
    createdAt: a.createdAt,
    retryCount: a.retryCount,
    maxRetries: a.maxRetries,
  };
}
