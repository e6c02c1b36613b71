import type { Db } from "../postgres/db.js";
import { handBackUndelivered } from "../dispatch/claim-jobs.js";
import { finishAttempts } from "./finish-attempts.js";

/**
 * Hands back everything a worker holds, at once (Deregister, or the worker declared lost):
 * ASSIGNED jobs go back to PENDING (reason WORKER_LOST, retry budget untouched), RUNNING jobs
 * fail with reason WORKER_LOST and are retried or dead-lettered like any failure (SPEC §3).
 * Returns how many jobs were released.
 */
export async function releaseWorkerJobs(db: Db, workerId: string, message: string): Promise<number> {
  let released = 0;
  // A job can move from ASSIGNED to RUNNING between the read and the hand-back (the dispatcher's
  // RUNNING mark racing this call); the hand-back then skips it, and the next pass fails it.
  for (let pass = 0; pass < 3; pass++) {
    const { rows } = await db.query<{ id: string; attempt: number; status: "ASSIGNED" | "RUNNING" }>(
      "SELECT id, attempt, status FROM jobs WHERE worker_id = $1 AND status IN ('ASSIGNED', 'RUNNING')",
      [workerId],
    );
    if (rows.length === 0) break;
    const assigned = rows.filter((r) => r.status === "ASSIGNED").map((r) => ({ jobId: r.id, attempt: r.attempt }));
    const running = rows.filter((r) => r.status === "RUNNING");
    released += await handBackUndelivered(db, workerId, assigned, "WORKER_LOST");
    const verdicts = await finishAttempts(
      db,
      running.map((r) => ({
        jobId: r.id,
        attempt: r.attempt,
        workerId,
        outcome: { kind: "failure", message, retryable: true, reason: "WORKER_LOST" },
      })),
    );
    released += verdicts.filter((v) => v.code === "accepted").length;
  }
  return released;
}
