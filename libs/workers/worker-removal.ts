import { FailedPrecondition, NotFound } from "../errors/index.js";
import type { Db } from "../postgres/db.js";

/** RemoveWorker: deletes an OFFLINE worker's row; any other status is refused. */
export async function removeOfflineWorker(db: Db, workerId: string): Promise<void> {
  const { rows } = await db.query<{ status: string; removed: boolean }>(
    `WITH target AS (SELECT worker_id, status FROM workers WHERE worker_id = $1 FOR UPDATE),
          gone AS (DELETE FROM workers w USING target t WHERE w.worker_id = t.worker_id AND t.status = 'OFFLINE' RETURNING w.worker_id)
     SELECT t.status::text AS status, EXISTS (SELECT 1 FROM gone) AS removed FROM target t`,
    [workerId],
  );
  const row = rows[0];
  if (!row) throw new NotFound("worker", workerId);
  if (!row.removed) throw new FailedPrecondition(`worker ${workerId} is ${row.status}, not OFFLINE: drain or deregister it first`);
}
