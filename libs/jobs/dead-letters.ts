import type { TransitionReason } from "../lifecycle/index.js";
import type { Db } from "../postgres/db.js";
import { eventRelayed, JOB_COLUMNS_BASIC, JOB_COLUMNS_FULL, type JobRecord } from "./job-record.js";
import { RETRY_RESET } from "./job-commands.js";
import { transitionJobs } from "./transition-jobs.js";

/** Which dead letters an admin call touches: every given selector must match. */
export interface DeadLetterSelector {
  readonly queue: string | null;
  readonly reasons: readonly TransitionReason[];
  readonly jobIds: readonly string[];
}

/** Bulk actions work in batches of this many jobs, each its own short transaction. */
const BATCH = 500;

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
 * Sends the selected dead letters back to PENDING (RETRIED_MANUALLY), oldest first, at most
 * `limit` of them (0: all); returns how many moved.
 */
export async function requeueDeadLetters(db: Db, s: DeadLetterSelector, limit = 0): Promise<number> {
  let total = 0;
  for (;;) {
    const params: unknown[] = [];
    const where = selectorWhere(s, params);
    const want = limit > 0 ? Math.min(BATCH, limit - total) : BATCH;
    if (want <= 0) return total;
    params.push(want);
    const { rows } = await db.query<{ id: string }>(
      `SELECT j.id FROM jobs j WHERE ${where} ORDER BY j.id LIMIT $${params.length}`,
      params,
    );
    if (rows.length === 0) return total;
    const moved = await transitionJobs(db, { jobIds: rows.map((r) => r.id), to: "PENDING", reason: "RETRIED_MANUALLY", set: RETRY_RESET });
    total += moved.length;
    if (rows.length < want) return total;
  }
}

/** Deletes the selected dead letters and their events (except events the relay has not sent yet). */
export async function purgeDeadLetters(db: Db, s: DeadLetterSelector): Promise<number> {
  let total = 0;
  for (;;) {
    const params: unknown[] = [];
    const where = selectorWhere(s, params);
    params.push(BATCH);
    const { rowCount } = await db.query(
      `WITH doomed AS (
         SELECT j.id FROM jobs j WHERE ${where} ORDER BY j.id LIMIT $${params.length} FOR UPDATE SKIP LOCKED
       ), events AS (
         DELETE FROM job_events e USING doomed
         WHERE e.job_id = doomed.id AND ${eventRelayed("e")}
       )
       DELETE FROM jobs USING doomed WHERE jobs.id = doomed.id`,
      params,
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH) return total;
  }
}
