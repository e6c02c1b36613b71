import type { Db } from "../postgres/db.js";
import { handBackUndelivered } from "../dispatch/claim-jobs.js";
import type { HeldDelivery } from "../workers/held-jobs-reconciliation.js";
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
    released += await releaseDeliveries(db, workerId, rows.map((r) => ({ jobId: r.id, attempt: r.attempt, status: r.status })), message);
  }
  return released;
}

/**
 * Releases some deliveries of one worker as the lifecycle table says for a lost worker: ASSIGNED
 * back to PENDING, RUNNING failed with WORKER_LOST. Each is fenced by worker and attempt, so a
 * delivery that moved on meanwhile (its result recorded, a newer attempt) is left alone; one that
 * went from ASSIGNED to RUNNING meanwhile is skipped. Returns how many were released.
 */
export async function releaseDeliveries(db: Db, workerId: string, deliveries: readonly HeldDelivery[], message: string): Promise<number> {
  const ref = (d: HeldDelivery) => ({ jobId: d.jobId, attempt: d.attempt });
  const assigned = deliveries.filter((d) => d.status === "ASSIGNED").map(ref);
  const running = deliveries.filter((d) => d.status === "RUNNING");
  const handedBack = await handBackUndelivered(db, workerId, assigned, "WORKER_LOST", message);
  const verdicts = await finishAttempts(
    db,
    running.map((d) => ({
      jobId: d.jobId,
      attempt: d.attempt,
      workerId,
      outcome: { kind: "failure", message, retryable: true, reason: "WORKER_LOST" },
    })),
  );
  return handedBack + verdicts.filter((v) => v.code === "accepted").length;
}
