import { NotFound } from "../errors/index.js";
import type { TransitionReason } from "../lifecycle/index.js";
import type { Db } from "../postgres/db.js";
import { deleteJobsWithSentEvents } from "./delete-jobs.js";
import { JOB_COLUMNS_BASIC, JOB_COLUMNS_FULL, type JobRecord } from "./job-record.js";
import { transitionJobs, type TransitionedJob } from "./transition-jobs.js";

/**
 * Dead letters, in one place: how a job becomes one (`deadLetterJobs`), how it comes back
 * (`retryJobsManually`), and the one parameterised operation on a selection of them
 * (`actOnDeadLetters`: requeue or purge, by queue, reason or ids). Every status change goes through
 * transitionJobs (transition-sql.ts); every delete through deleteJobsWithSentEvents.
 */

/** Which dead letters an admin call touches: every given selector must match. */
export interface DeadLetterSelector {
  readonly queue: string | null;
  readonly reasons: readonly TransitionReason[];
  readonly jobIds: readonly string[];
}

/** What to do with the selected dead letters. */
export type DeadLetterAction =
  /** Back to PENDING, at most `limit` of them (0: all). */
  | { readonly kind: "requeue"; readonly limit: number }
  /** Deleted, with their events the relay has sent. */
  | { readonly kind: "purge" };

/** Bulk actions work in batches of this many jobs, each its own short transaction. */
const BATCH = 500;

/** What dead-lettering sets besides the status: the job is finished and holds nothing. */
const DEAD_LETTER_SET = ", completed_at = now(), lease_expires_at = NULL, not_before = NULL, error_message = $3";

/** What a manual retry clears: the job starts over as if just submitted, keeping its attempt count. */
const RETRY_RESET =
  ", retry_count = 0, not_before = NULL, worker_id = NULL, lease_expires_at = NULL, result = NULL, error_message = NULL, completed_at = NULL";

/**
 * Dead-letters the given jobs from wherever the lifecycle table allows (`message` becomes the
 * event's message and the job's error): CancelJob, a forced DeleteQueue, the TTL sweep. Failed
 * results are dead-lettered by libs/attempts, which writes the same columns in its batch.
 */
export function deadLetterJobs(db: Db, jobIds: readonly string[], reason: "CANCELLED" | "EXPIRED", message: string): Promise<TransitionedJob[]> {
  return transitionJobs(db, { jobIds, to: "DEAD_LETTERED", reason, message, set: DEAD_LETTER_SET });
}

/** FAILED or DEAD_LETTERED → PENDING (RETRIED_MANUALLY), retry count reset, due at once. */
export function retryJobsManually(db: Db, jobIds: readonly string[]): Promise<TransitionedJob[]> {
  return transitionJobs(db, { jobIds, to: "PENDING", reason: "RETRIED_MANUALLY", set: RETRY_RESET });
}

function selectorWhere(s: DeadLetterSelector, params: unknown[]): string {
  const where = ["j.status = 'DEAD_LETTERED'"];
  if (s.queue !== null) {
    params.push(s.queue);
    where.push(`j.queue = $${params.length}`);
  }
  if (s.reasons.length > 0) {
    params.push(s.reasons);
    where.push(`j.status_reason = ANY($${params.length}::text[])`);
  }
  if (s.jobIds.length > 0) {
    params.push(s.jobIds);
    where.push(`j.id = ANY($${params.length}::uuid[])`);
  }
  return where.join(" AND ");
}

/** Dead letters oldest first (by id), strictly after `afterId`. */
export async function listDeadLetters(
  db: Db,
  s: DeadLetterSelector,
  afterId: string | null,
  limit: number,
  full = false,
): Promise<{ jobs: JobRecord[]; more: boolean }> {
  const params: unknown[] = [];
  let where = selectorWhere(s, params);
  if (afterId !== null) {
    params.push(afterId);
    where += ` AND j.id > $${params.length}::uuid`;
  }
  params.push(limit + 1);
  const { rows } = await db.query<JobRecord>(
    `SELECT ${full ? JOB_COLUMNS_FULL : JOB_COLUMNS_BASIC} FROM jobs j WHERE ${where} ORDER BY j.id LIMIT $${params.length}`,
    params,
  );
  return { jobs: rows.slice(0, limit), more: rows.length > limit };
}

/**
 * The one dead-letter operation behind RequeueDeadLetters, PurgeDeadLetters and the dashboard's
 * requeue and purge (a whole queue or given jobs of it): the queue must exist (NotFound), and the
 * selected dead letters are requeued or purged oldest first, a batch per statement. Returns how
 * many were. A requeued job's queue is not woken here: the caller holds the process's QueueWaker.
 */
export async function actOnDeadLetters(db: Db, s: DeadLetterSelector & { readonly queue: string }, action: DeadLetterAction): Promise<number> {
  const { rowCount } = await db.query("SELECT 1 FROM queues WHERE name = $1", [s.queue]);
  if (!rowCount) throw new NotFound("queue", s.queue);
  const limit = action.kind === "requeue" ? action.limit : 0;
  let total = 0;
  for (;;) {
    const want = limit > 0 ? Math.min(BATCH, limit - total) : BATCH;
    if (want <= 0) return total;
    const batch = action.kind === "requeue" ? await requeueBatch(db, s, want) : await purgeBatch(db, s, want);
    total += batch.acted;
    if (batch.selected < want) return total;
  }
}

/** Up to `want` selected dead letters back to PENDING; one that changed meanwhile is left alone. */
async function requeueBatch(db: Db, s: DeadLetterSelector, want: number): Promise<{ selected: number; acted: number }> {
  const params: unknown[] = [];
  const where = selectorWhere(s, params);
  params.push(want);
  const { rows } = await db.query<{ id: string }>(`SELECT j.id FROM jobs j WHERE ${where} ORDER BY j.id LIMIT $${params.length}`, params);
  if (rows.length === 0) return { selected: 0, acted: 0 };
  const moved = await retryJobsManually(db, rows.map((r) => r.id));
  return { selected: rows.length, acted: moved.length };
}

/** Deletes up to `want` selected dead letters, skipping rows someone else holds. */
async function purgeBatch(db: Db, s: DeadLetterSelector, want: number): Promise<{ selected: number; acted: number }> {
  const params: unknown[] = [];
  const where = selectorWhere(s, params);
  params.push(want);
  const deleted = await deleteJobsWithSentEvents(db, `SELECT j.id FROM jobs j WHERE ${where} ORDER BY j.id LIMIT $${params.length} FOR UPDATE SKIP LOCKED`, params);
  return { selected: deleted, acted: deleted };
}
