import type { Db } from "../postgres/db.js";
import { namedStatement, unnestParams } from "../postgres/named-statement.js";
import { appendEventChain, deferredClaim, move, NEXT_EVENT_XID, setStatus } from "../jobs/transition-sql.js";
import type { FinishRequest } from "./finish-attempts.js";

const DELIVERED = move("ASSIGNED", "RUNNING", "DELIVERED");
const SUCCEEDED = move("RUNNING", "DONE", "SUCCEEDED");
/** The rows of `done` that were still ASSIGNED (their RUNNING mark pending). */
const ASSIGNED = "from_status = 'ASSIGNED'";

/**
 * The hot path of recording results (docs/write-path.md): successes reported by the workers that
 * hold the jobs, written in one statement without a prior SELECT … FOR UPDATE. Each row is fenced
 * in its UPDATE (same attempt, same worker, and the status read at the start of the statement):
 * a row that changed meanwhile is left alone and its request is returned for the full path
 * (finishAttempts), which decides it under a row lock. A delivery whose RUNNING mark was still
 * pending is marked in the same statement: its deferred CLAIMED, DELIVERED (at the time of the
 * write) then SUCCEEDED, in one event row.
 *
 * Returns the jobs made DONE (id → queue). `requests` must name each job once.
 */
export async function recordSuccesses(db: Db, requests: readonly FinishRequest[]): Promise<Map<string, string>> {
  if (requests.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; queue: string }>(
    SUCCESSES([
      requests.map((r) => r.jobId),
      requests.map((r) => r.attempt),
      requests.map((r) => r.workerId),
      requests.map((r) => (r.outcome.kind === "success" ? r.outcome.result : null)),
      requests.map((r) => r.deliveredAt ?? null),
    ]),
  );
  return new Map(rows.map((r) => [r.id, r.queue]));
}

/**
 * $1 ids, $2 attempts, $3 workers, $4 results, $5 delivery times (null: now, if still ASSIGNED).
 * Each job is read by its key, one lookup per result: the LIMIT keeps the fences out of the
 * lookup, so no partial index of held jobs can serve it (docs/write-path.md, "Plans made on a
 * small table"). The arrays are read through InitPlans (unnestParams) so that the generic plan
 * is kept.
 */
const SUCCESSES = namedStatement(`
  WITH input AS (
    SELECT * FROM ${unnestParams("uuid", "int", "uuid", "bytea", "timestamptz")} AS i(id, attempt, worker_id, result, delivered_at)
  ), seen AS MATERIALIZED (
    SELECT j.id, j.status AS from_status, i.attempt, i.worker_id, i.result, i.delivered_at
    FROM input i CROSS JOIN LATERAL (SELECT j.id, j.status, j.attempt, j.worker_id FROM jobs j WHERE j.id = i.id LIMIT 1) j
    WHERE j.status IN ('ASSIGNED', 'RUNNING') AND j.attempt = i.attempt AND j.worker_id = i.worker_id
  ), done AS (
    UPDATE jobs j SET ${setStatus(SUCCEEDED)}, result = s.result, error_message = NULL,
           not_before = NULL, lease_expires_at = NULL, updated_at = now(), completed_at = now(),
           event_xid = ${NEXT_EVENT_XID},
           started_at = CASE WHEN s.from_status = 'ASSIGNED' THEN coalesce(s.delivered_at, now()) ELSE coalesce(j.started_at, now()) END
    FROM seen s
    WHERE j.id = s.id AND j.status = s.from_status AND j.attempt = s.attempt AND j.worker_id = s.worker_id
    RETURNING j.id, j.queue, j.attempt, j.worker_id, j.assigned_at, j.event_xid, s.from_status, coalesce(s.delivered_at, now()) AS delivered_at
  ), events AS (
    ${appendEventChain("done", [
      deferredClaim({ worker: "worker_id", at: "assigned_at", when: ASSIGNED }),
      { move: DELIVERED, when: ASSIGNED, values: { worker: "worker_id", at: "delivered_at" } },
      { move: SUCCEEDED, values: { worker: "worker_id" } },
    ])}
  )
  SELECT id, queue FROM done`);
