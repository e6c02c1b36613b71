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
  const { rows } = await db.query<{ id: string; attempt: number; status: "ASSIGNED" | "RUNNING" }>(
    "SELECT id, attempt, status FROM jobs WHERE worker_id = $1 AND status IN ('ASSIGNED', 'RUNNING')",
    [workerId],
  );
  const assigned = rows.filter((r) => r.status === "ASSIGNED").map((r) => ({ jobId: r.id, attempt: r.attempt }));
  const running = rows.filter((r) => r.status === "RUNNING");
  const handedBack = await handBackUndelivered(db, workerId, assigned, "WORKER_LOST");
  const verdicts = await finishAttempts(
    db,
    running.map((r) => ({
      jobId: r.id,
      attempt: r.attempt,
      workerId,
      outcome: { kind: "failure", message, retryable: true, reason: "WORKER_LOST" },
    })),
  );
  return handedBack + verdicts.filter((v) => v.code === "accepted").length;
}
