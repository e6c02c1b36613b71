import type { Db } from "../postgres/db.js";

/**
 * Worker retention (issue 13 item 9): OFFLINE workers silent for longer than `retentionMs` are
 * deleted, a batch at a time, so churn does not leave rows forever. An OFFLINE worker holds no
 * job (going OFFLINE hands its jobs back), and registering again under a deleted id starts afresh.
 * Returns how many rows were deleted.
 */
export async function sweepExpiredWorkers(db: Db, retentionMs: number, batch = 1000): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM workers w USING (
       SELECT worker_id FROM workers
       WHERE status = 'OFFLINE' AND last_heartbeat < now() - $1::bigint * interval '1 millisecond'
       ORDER BY last_heartbeat LIMIT $2 FOR UPDATE SKIP LOCKED) old
     WHERE w.worker_id = old.worker_id`,
    [retentionMs, batch],
  );
  return rowCount ?? 0;
}
