import type pg from "pg";
import { inTransaction, type Db } from "../postgres/db.js";
import { afterFailure, eventTypeOf, retryNotBefore, type JobStatus, type TransitionReason } from "../lifecycle/index.js";

/** How one delivery ended, as a worker (or the scheduler, for lost workers and timeouts) says. */
export type AttemptOutcome =
  | { readonly kind: "success"; readonly result: Buffer }
  | {
      readonly kind: "failure";
      readonly message: string;
      readonly retryable: boolean;
      /** FAILED: the worker reported it; TIMEOUT and WORKER_LOST: decided by jq. */
      readonly reason: "FAILED" | "TIMEOUT" | "WORKER_LOST";
    };

export interface FinishRequest {
  readonly jobId: string;
  /** The delivery's attempt: the fencing token. */
  readonly attempt: number;
  /** The worker that must hold the job, or null when jq itself ends the attempt. */
  readonly workerId: string | null;
  readonly outcome: AttemptOutcome;
}

export type FinishVerdict =
  | { readonly code: "accepted"; readonly status: JobStatus; readonly queue: string; readonly workerId: string | null }
  | { readonly code: "stale"; readonly detail: string }
  | { readonly code: "not_found" };

interface LockedJob {
  id: string;
  queue: string;
  status: JobStatus;
  attempt: number;
  worker_id: string | null;
  retry_count: number;
  max_retries: number;
  backoff_base_ms: number;
  backoff_max_ms: number;
}

/**
 * Records the outcomes of many deliveries in one transaction (SPEC §3, §5): a success makes the
 * job DONE with its result; a failure makes it FAILED and, in the same transaction, PENDING with
 * the backoff of SPEC §3 or DEAD_LETTERED. Each row is fenced: only a RUNNING job (or an ASSIGNED
 * one reported by its own worker) whose attempt and worker match is changed; anything else is
 * `stale` and untouched.
 * Rows are locked in id order so concurrent batches cannot deadlock. Every transition writes its
 * job_events and outbox rows in the same statement as the job rows.
 */
export async function finishAttempts(
  db: Db,
  requests: readonly FinishRequest[],
  options: { now?: Date; random?: () => number } = {},
): Promise<FinishVerdict[]> {
  if (requests.length === 0) return [];
  return inTransaction(db, async (client) => {
    const { rows } = await client.query<LockedJob>(
      `SELECT j.id, j.queue, j.status, j.attempt, j.worker_id, j.retry_count,
              coalesce(j.max_retries, q.max_retries) AS max_retries, q.backoff_base_ms, q.backoff_max_ms
       FROM jobs j JOIN queues q ON q.name = j.queue
       WHERE j.id = ANY($1::uuid[]) ORDER BY j.id FOR UPDATE OF j`,
      [[...new Set(requests.map((r) => r.jobId))]],
    );
    const jobs = new Map(rows.map((r) => [r.id, r]));
    const now = options.now ?? new Date();
    const write = new Writes();
    const verdicts = requests.map((req): FinishVerdict => {
      const job = jobs.get(req.jobId);
      if (!job) return { code: "not_found" };
      // A fast worker can report before the dispatcher's ASSIGNED → RUNNING write lands: its own
      // result proves the delivery, so the same transaction records DELIVERED first.
      const deliveredEarly = job.status === "ASSIGNED" && req.workerId !== null;
      if (
        (job.status !== "RUNNING" && !deliveredEarly) ||
        job.attempt !== req.attempt ||
        (req.workerId !== null && job.worker_id !== req.workerId)
      ) {
        return { code: "stale", detail: staleDetail(job, req) };
      }
      if (deliveredEarly) write.delivered(job);
      const status = write.add(job, req, now, options.random);
      // A second outcome for the same attempt later in this batch is then stale too.
      job.status = status;
      return { code: "accepted", status, queue: job.queue, workerId: job.worker_id };
    });
    if (write.size > 0) await write.flush(client);
    return verdicts;
  });
}

function staleDetail(job: LockedJob, req: FinishRequest): string {
  if (job.status !== "RUNNING" && job.status !== "ASSIGNED") return `job ${job.id} is ${job.status}, not RUNNING`;
  if (job.attempt !== req.attempt) return `attempt ${req.attempt} is not current (the job is on attempt ${job.attempt})`;
  return `job ${job.id} is held by another worker`;
}

/** Column arrays for one multi-row UPDATE and one multi-row event insert. */
class Writes {
  private readonly ids: string[] = [];
  private readonly statuses: JobStatus[] = [];
  private readonly reasons: TransitionReason[] = [];
  private readonly results: (Buffer | null)[] = [];
  private readonly errors: (string | null)[] = [];
  private readonly retryCounts: number[] = [];
  private readonly notBefores: (Date | null)[] = [];
  private readonly finished: boolean[] = [];
  private readonly events: {
    jobId: string[];
    queue: string[];
    type: string[];
    from: JobStatus[];
    to: JobStatus[];
    reason: string[];
    worker: (string | null)[];
    attempt: number[];
    message: (string | null)[];
  } = { jobId: [], queue: [], type: [], from: [], to: [], reason: [], worker: [], attempt: [], message: [] };

  get size(): number {
    return this.ids.length;
  }

  /** The ASSIGNED → RUNNING event of a delivery whose result arrived before it was marked. */
  delivered(job: LockedJob): void {
    this.event(job, "ASSIGNED", "RUNNING", "DELIVERED", null);
  }

  add(job: LockedJob, req: FinishRequest, now: Date, random?: () => number): JobStatus {
    const o = req.outcome;
    if (o.kind === "success") {
      this.row(job, "DONE", "SUCCEEDED", o.result, null, job.retry_count, null, true);
      this.event(job, "RUNNING", "DONE", "SUCCEEDED", null);
      return "DONE";
    }
    this.event(job, "RUNNING", "FAILED", o.reason, o.message);
    const next = afterFailure({ retryCount: job.retry_count, maxRetries: job.max_retries, retryable: o.retryable });
    if (next.to === "PENDING") {
      const notBefore = retryNotBefore(now, job.retry_count, { baseMs: job.backoff_base_ms, maxMs: job.backoff_max_ms }, random);
      this.row(job, "PENDING", next.reason, null, o.message, job.retry_count + 1, notBefore, false);
      this.event(job, "FAILED", "PENDING", next.reason, `retry ${job.retry_count + 1} of ${job.max_retries} not before ${notBefore.toISOString()}`);
    } else {
      this.row(job, "DEAD_LETTERED", next.reason, null, o.message, job.retry_count, null, true);
      this.event(job, "FAILED", "DEAD_LETTERED", next.reason, o.message);
    }
    return next.to;
  }

  private row(
    job: LockedJob,
    status: JobStatus,
    reason: TransitionReason,
    result: Buffer | null,
    error: string | null,
    retryCount: number,
    notBefore: Date | null,
    finished: boolean,
  ): void {
    this.ids.push(job.id);
    this.statuses.push(status);
    this.reasons.push(reason);
    this.results.push(result);
    this.errors.push(error);
    this.retryCounts.push(retryCount);
    this.notBefores.push(notBefore);
    this.finished.push(finished);
  }

  private event(job: LockedJob, from: JobStatus, to: JobStatus, reason: TransitionReason, message: string | null): void {
    const e = this.events;
    e.jobId.push(job.id);
    e.queue.push(job.queue);
    e.type.push(eventTypeOf(to, reason));
    e.from.push(from);
    e.to.push(to);
    e.reason.push(reason);
    e.worker.push(job.worker_id);
    e.attempt.push(job.attempt);
    e.message.push(message);
  }

  async flush(client: pg.PoolClient): Promise<void> {
    const e = this.events;
    await client.query(
      `WITH changes AS (
         SELECT * FROM unnest($1::uuid[], $2::job_status[], $3::text[], $4::bytea[], $5::text[], $6::int[], $7::timestamptz[], $8::bool[])
           AS c(id, status, reason, result, error, retry_count, not_before, finished)
       ), updated AS (
         UPDATE jobs j SET status = c.status, status_reason = c.reason, result = c.result,
                error_message = c.error, retry_count = c.retry_count, not_before = c.not_before,
                lease_expires_at = NULL, updated_at = now(), started_at = coalesce(j.started_at, now()),
                completed_at = CASE WHEN c.finished THEN now() ELSE NULL END
         FROM changes c WHERE j.id = c.id
       ), events AS (
         INSERT INTO job_events (job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message)
         SELECT job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message
         FROM unnest($9::uuid[], $10::text[], $11::text[], $12::job_status[], $13::job_status[], $14::text[], $15::uuid[], $16::int[], $17::text[])
           WITH ORDINALITY AS e(job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message, ord)
         ORDER BY ord
         RETURNING id
       )
       INSERT INTO outbox (event_id) SELECT id FROM events ORDER BY id`,
      [
        this.ids, this.statuses, this.reasons, this.results, this.errors, this.retryCounts, this.notBefores, this.finished,
        e.jobId, e.queue, e.type, e.from, e.to, e.reason, e.worker, e.attempt, e.message,
      ],
    );
  }
}
