import type { Db } from "../postgres/db.js";
import { releaseWorkerJobs } from "../attempts/index.js";
import { notifyWorkerControl } from "../notifications/index.js";

/**
 * Workers silent for longer than the heartbeat timeout are declared lost (SPEC §7): OFFLINE, their
 * ASSIGNED jobs back to PENDING, their RUNNING jobs FAILED with reason WORKER_LOST and then retried
 * or dead-lettered. The OFFLINE mark is conditional on the worker still being silent, so a worker
 * that heartbeats at the last moment, or a second sweeper, changes nothing. Returns the workers lost.
 */
export async function sweepLostWorkers(db: Db, heartbeatTimeoutMs: number, batch = 100): Promise<string[]> {
  const { rows } = await db.query<{ worker_id: string }>(
    `UPDATE workers w SET status = 'OFFLINE', node_id = NULL
     FROM (SELECT worker_id FROM workers
           WHERE status <> 'OFFLINE' AND last_heartbeat < now() - $1::int * interval '1 millisecond'
           ORDER BY last_heartbeat LIMIT $2 FOR UPDATE SKIP LOCKED) lost
     WHERE w.worker_id = lost.worker_id
     RETURNING w.worker_id`,
    [heartbeatTimeoutMs, batch],
  );
  for (const { worker_id } of rows) {
    await releaseWorkerJobs(db, worker_id, "worker lost: no heartbeat within the timeout");
    await notifyWorkerControl(db, { kind: "offline", worker: worker_id });
  }
  return rows.map((r) => r.worker_id);
}
