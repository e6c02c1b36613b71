import type pg from "pg";
import { inTransaction, type Db } from "../postgres/db.js";
import { backoffDelayMs, type BackoffPolicy } from "../backoff/index.js";
import { afterFailure, type JobStatus, type TransitionReason } from "../lifecycle/index.js";
import { EventRows, NEXT_EVENT_XID } from "../jobs/transition-sql.js";
import { recordSuccesses } from "./report-successes.js";
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
  /**
   * When the api wrote the delivery to the worker's stream, if it had not yet marked the job
   * RUNNING (the mark is folded into this write): the DELIVERED event and started_at take it.
   */
  readonly deliveredAt?: Date;
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
  assigned_at: Date | null;
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
 * `stale` and untouched. An ASSIGNED job's deferred CLAIMED and its DELIVERED event are written
 * first, so a delivery whose RUNNING mark was still pending costs no write of its own.
 * Rows are locked in id order so concurrent batches cannot deadlock. Every job row is updated once
 * and every transition writes its own event, in one statement. Times come from the database's
 * clock: a retry's not_before is now() plus the backoff.
 */
export async function finishAttempts(
  db: Db,
  requests: readonly FinishRequest[],
  options: { random?: () => number; delayMs?: (retryCount: number, policy: BackoffPolicy) => number } = {},
): Promise<FinishVerdict[]> {
  if (requests.length === 0) return [];
  // Successes from the workers holding the jobs take the one-statement path; whatever it leaves
  // (failures, stale or raced rows, a second result for the same job) is decided under row locks.
  // Only a job's first request in the batch may take it: the first outcome of an attempt wins.
  const firstOfJob = new Map<string, number>();
  requests.forEach((r, i) => {
    if (!firstOfJob.has(r.jobId)) firstOfJob.set(r.jobId, i);
  });
  for (const [jobId, i] of firstOfJob) {
    const r = requests[i]!;
    if (r.outcome.kind !== "success" || r.workerId === null) firstOfJob.delete(jobId);
  }
  const done = await recordSuccesses(db, [...firstOfJob.values()].map((i) => requests[i]!));
  const verdicts: (FinishVerdict | undefined)[] = requests.map((r, i) =>
    firstOfJob.get(r.jobId) === i && done.has(r.jobId)
      ? { code: "accepted", status: "DONE", queue: done.get(r.jobId)!, workerId: r.workerId }
      : undefined,
  );
  const rest = requests.filter((_, i) => verdicts[i] === undefined);
  if (rest.length === 0) return verdicts as FinishVerdict[];
  const decided = await finishUnderLocks(db, rest, options);
  let next = 0;
  return verdicts.map((v) => v ?? decided[next++]!);
}

async function finishUnderLocks(
  db: Db,
  requests: readonly FinishRequest[],
  options: { random?: () => number; delayMs?: (retryCount: number, policy: BackoffPolicy) => number },
): Promise<FinishVerdict[]> {
  const delayMs = options.delayMs ?? ((n: number, policy: BackoffPolicy) => backoffDelayMs(n, policy, options.random));
  return inTransaction(db, async (client) => {
    const { rows } = await client.query<LockedJob>(
      `SELECT j.id, j.queue, j.status, j.attempt, j.worker_id, j.assigned_at, j.retry_count,
              coalesce(j.max_retries, q.max_retries) AS max_retries, q.backoff_base_ms, q.backoff_max_ms
       FROM jobs j JOIN queues q ON q.name = j.queue
       WHERE j.id = ANY($1::uuid[]) ORDER BY j.id FOR UPDATE OF j`,
      [[...new Set(requests.map((r) => r.jobId))]],
    );
    const jobs = new Map(rows.map((r) => [r.id, r]));
    const write = new Writes(delayMs);
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
      const status = write.add(job, req, deliveredEarly);
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

/** Column arrays for one multi-row UPDATE of jobs and one multi-row insert of their events. */
class Writes {
  private readonly ids: string[] = [];
  private readonly statuses: JobStatus[] = [];
  private readonly reasons: TransitionReason[] = [];
  private readonly results: (Buffer | null)[] = [];
  private readonly errors: (string | null)[] = [];
  private readonly retryCounts: number[] = [];
  private readonly delays: (number | null)[] = [];
  private readonly finished: boolean[] = [];
  private readonly delivered: boolean[] = [];
  private readonly deliveredAt: (Date | null)[] = [];
  private readonly events = new EventRows();

  constructor(private readonly delayMs: (retryCount: number, policy: BackoffPolicy) => number) {}

  get size(): number {
    return this.ids.length;
  }

  add(job: LockedJob, req: FinishRequest, deliveredEarly: boolean): JobStatus {
    const o = req.outcome;
    const deliveredAt = deliveredEarly ? (req.deliveredAt ?? null) : null;
    if (deliveredEarly) {
      this.event(job, "PENDING", "ASSIGNED", "CLAIMED", null, job.assigned_at);
      this.event(job, "ASSIGNED", "RUNNING", "DELIVERED", null, deliveredAt);
    }
    if (o.kind === "success") {
      this.row(job, "DONE", "SUCCEEDED", o.result, null, job.retry_count, null, true, deliveredEarly, deliveredAt);
      this.event(job, "RUNNING", "DONE", "SUCCEEDED", null);
      return "DONE";
    }
    this.event(job, "RUNNING", "FAILED", o.reason, o.message);
    const next = afterFailure({ retryCount: job.retry_count, maxRetries: job.max_retries, retryable: o.retryable });
    if (next.to === "PENDING") {
      const delay = this.delayMs(job.retry_count, { baseMs: job.backoff_base_ms, maxMs: job.backoff_max_ms, jitter: "up-to-base" });
      this.row(job, "PENDING", next.reason, null, o.message, job.retry_count + 1, delay, false, deliveredEarly, deliveredAt);
      this.event(job, "FAILED", "PENDING", next.reason, `retry ${job.retry_count + 1} of ${job.max_retries} in ${delay} ms`);
    } else {
      this.row(job, "DEAD_LETTERED", next.reason, null, o.message, job.retry_count, null, true, deliveredEarly, deliveredAt);
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
    delayMs: number | null,
    finished: boolean,
    delivered: boolean,
    deliveredAt: Date | null,
  ): void {
    this.ids.push(job.id);
    this.statuses.push(status);
    this.reasons.push(reason);
    this.results.push(result);
    this.errors.push(error);
    this.retryCounts.push(retryCount);
    this.delays.push(delayMs);
    this.finished.push(finished);
    this.delivered.push(delivered);
    this.deliveredAt.push(deliveredAt);
  }

  private event(job: LockedJob, from: JobStatus, to: JobStatus, reason: TransitionReason, message: string | null, at: Date | null = null): void {
    this.events.add({ jobId: job.id, queue: job.queue, from, to, reason, workerId: job.worker_id, attempt: job.attempt, message, at });
  }

  async flush(client: pg.PoolClient): Promise<void> {
    await client.query(
      `WITH changes AS (
         SELECT * FROM unnest($1::uuid[], $2::job_status[], $3::text[], $4::bytea[], $5::text[], $6::int[], $7::bigint[], $8::bool[], $9::bool[], $10::timestamptz[])
           AS c(id, status, reason, result, error, retry_count, delay_ms, finished, delivered, delivered_at)
       ), updated AS (
         UPDATE jobs j SET status = c.status, status_reason = c.reason, result = c.result,
                error_message = c.error, retry_count = c.retry_count,
                not_before = CASE WHEN c.delay_ms IS NULL THEN NULL ELSE now() + c.delay_ms * interval '1 millisecond' END,
                lease_expires_at = NULL, updated_at = now(), event_xid = ${NEXT_EVENT_XID},
                -- a retry waits for any worker; a finished job keeps the one that ran it last
                worker_id = CASE WHEN c.status = 'PENDING' THEN NULL ELSE j.worker_id END,
                started_at = CASE WHEN c.delivered THEN coalesce(c.delivered_at, now()) ELSE coalesce(j.started_at, now()) END,
                completed_at = CASE WHEN c.finished THEN now() ELSE NULL END
         FROM changes c WHERE j.id = c.id
         RETURNING j.id, j.event_xid
       )
       ${EventRows.insertSql(11, "updated")}`,
      [
        this.ids, this.statuses, this.reasons, this.results, this.errors, this.retryCounts, this.delays, this.finished, this.delivered, this.deliveredAt,
        ...this.events.params(),
      ],
    );
  }
}
