import type { JobStatus, TransitionReason } from "../lifecycle/index.js";
import type { Db } from "../postgres/db.js";
import { JOB_COLUMNS_BASIC, JOB_RECORD_FIELDS, type JobRecord } from "./job-record.js";
import { appendEventChain, deferredClaim, moveFromEverySource, NEXT_EVENT_XID, setStatus, type ChainPart } from "./transition-sql.js";

export interface TransitionRequest {
  readonly jobIds: readonly string[];
  readonly to: JobStatus;
  readonly reason: TransitionReason;
  /** Detail for the event row (and whatever `set` does with it as `$4`). */
  readonly message?: string | null;
  /**
   * Extra assignments, a constant SQL fragment starting with a comma, e.g.
   * `, completed_at = now()`. It may use `$4` (the message) and `$5…` (extraParams); never text
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
 * the states the lifecycle table allows as a source (SPEC §3), updates them, and writes one
 * job_events row per job (with a job that was ASSIGNED, its deferred CLAIMED event first, with the
 * worker and time of its claim as they were before the move). Jobs in any other state (or missing) are left alone and absent from the
 * result, so a second writer loses cleanly. Rows are locked in id order, so concurrent batches
 * cannot deadlock.
 */
export async function transitionJobs(db: Db, t: TransitionRequest): Promise<TransitionedJob[]> {
  if (t.jobIds.length === 0) return [];
  const m = moveFromEverySource(t.to, t.reason);
  const own: ChainPart = { move: m, values: { from: '"fromStatus"', worker: '"workerId"', message: "$3::text" } };
  const events = m.from.includes("ASSIGNED")
    ? [deferredClaim({ worker: "claim_worker", at: "claimed_at", when: `"fromStatus" = 'ASSIGNED'` }), own]
    : [own];
  const sql = `
    WITH target AS (
      SELECT id, status AS from_status, worker_id AS claim_worker, assigned_at AS claimed_at FROM jobs
      WHERE id = ANY($1::uuid[]) AND status = ANY($2::job_status[])
      ORDER BY id FOR UPDATE
    ), changed AS (
      UPDATE jobs j SET ${setStatus(m)}, updated_at = now(),
             event_xid = ${NEXT_EVENT_XID} ${t.set ?? ""}
      FROM target WHERE j.id = target.id
      RETURNING ${JOB_COLUMNS_BASIC}, target.from_status AS "fromStatus", target.claim_worker, target.claimed_at, j.event_xid
    ), events AS (
      ${appendEventChain("changed", events)}
    )
    SELECT ${JOB_RECORD_FIELDS}, "fromStatus" FROM changed`;
  const { rows } = await db.query<TransitionedJob>(sql, [t.jobIds, m.from, t.message ?? null, ...(t.extraParams ?? [])]);
  return rows;
}
