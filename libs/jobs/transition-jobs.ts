import { eventTypeOf, sourcesOf, type JobStatus, type TransitionReason } from "../lifecycle/index.js";
import type { Db } from "../postgres/db.js";
import { JOB_COLUMNS_BASIC, type JobRecord } from "./job-record.js";

export interface TransitionRequest {
  readonly jobIds: readonly string[];
  readonly to: JobStatus;
  readonly reason: TransitionReason;
  /** Detail for the event row (and whatever `set` does with it as `$6`). */
  readonly message?: string | null;
  /**
   * Extra assignments, a constant SQL fragment starting with a comma, e.g.
   * `, completed_at = now()`. It may use `$6` (the message) and `$7…` (extraParams); never text
   * from a request.
   */
  readonly set?: string;
  readonly extraParams?: readonly unknown[];
}

export interface TransitionedJob extends JobRecord {
  readonly fromStatus: JobStatus;
}

/**
 * Moves the given jobs to `to` for `reason` in one statement: locks the rows that are in one of
 * the states the state machine allows as a source (SPEC §3), updates them, and writes one
 * job_events row and one outbox row per job. Jobs in any other state (or missing) are left alone
 * and absent from the result, so a second writer loses cleanly. Rows are locked in id order, so
 * concurrent batches cannot deadlock.
 */
export async function transitionJobs(db: Db, t: TransitionRequest): Promise<TransitionedJob[]> {
  if (t.jobIds.length === 0) return [];
  const sql = `
    WITH target AS (
      SELECT id, status AS from_status FROM jobs
      WHERE id = ANY($1::uuid[]) AND status = ANY($2::job_status[])
      ORDER BY id FOR UPDATE
    ), changed AS (
      UPDATE jobs j SET status = $3::job_status, status_reason = $4, updated_at = now() ${t.set ?? ""}
      FROM target WHERE j.id = target.id
      RETURNING ${JOB_COLUMNS_BASIC}, target.from_status AS "fromStatus"
    ), events AS (
      INSERT INTO job_events (job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message)
      SELECT id, queue, $5, "fromStatus", $3::job_status, $4, "workerId", attempt, $6 FROM changed ORDER BY id
      RETURNING id
    ), outboxed AS (
      INSERT INTO outbox (event_id) SELECT id FROM events ORDER BY id
    )
    SELECT * FROM changed`;
  const { rows } = await db.query<TransitionedJob>(sql, [
    t.jobIds,
    sourcesOf(t.to, t.reason),
    t.to,
    t.reason,
    eventTypeOf(t.to, t.reason),
    t.message ?? null,
    ...(t.extraParams ?? []),
  ]);
  return rows;
}
