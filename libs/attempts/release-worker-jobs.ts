import type pg from "pg";
import { handBackUndelivered } from "../dispatch/claim-jobs.js";
import { finishAttempts } from "./finish-attempts.js";

/**
 * Hands back everything a worker holds, at once (Deregister, or the worker declared lost):
 * ASSIGNED jobs go back to PENDING (reason WORKER_LOST, retry budget untouched), RUNNING jobs
 * fail with reason WORKER_LOST and are retried or dead-lettered like any failure (SPEC §3).
 * Returns how many jobs were released.
 */
export async function releaseWorkerJobs(pool: pg.Pool, workerId: string, message: string): Promise<number> {
  const { rows } = await pool.query<{ id: string; attempt: number; status: "ASSIGNED" | "RUNNING" }>(
    "SELECT id, attempt, status FROM jobs WHERE worker_id = $1 AND status IN ('ASSIGNED', 'RUNNING')",
    [workerId],
  );
  const assigned = rows.filter((r) => r.status === "ASSIGNED").map((r) => ({ jobId: r.id, attempt: r.attempt }));
  const running = rows.filter((r) => r.status === "RUNNING");
  const handedBack = await handBackUndelivered(pool, workerId, assigned, "WORKER_LOST");
  const verdicts = await finishAttempts(
    pool,
    running.map((r) => ({
      jobId: r.id,
      attempt: r.attempt,
      workerId,
      outcome: { kind: "failure", message, retryable: true, reason: "WORKER_LOST" },
    })),
  );
  return handedBack + verdicts.filter((v) => v.code === "accepted").length;
}
