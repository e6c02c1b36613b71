import type { Db } from "../postgres/db.js";
import { finishAttempts } from "../attempts/index.js";
import { handBackUndelivered } from "../dispatch/index.js";
import { notifyWorkerControl } from "../notifications/index.js";

interface Expired {
  id: string;
  attempt: number;
  worker_id: string;
}

export const LEASE_EXPIRED_MESSAGE = "not delivered to its worker before the assignment's lease expired";

/** ASSIGNED jobs whose delivery lease passed go back to PENDING (LEASE_EXPIRED, no retry used). */
export async function sweepUndeliveredAssignments(db: Db, batch = 500): Promise<number> {
  const { rows } = await db.query<Expired>(
    `SELECT id, attempt, worker_id FROM jobs
     WHERE status = 'ASSIGNED' AND lease_expires_at < now() ORDER BY lease_expires_at LIMIT $1`,
    [batch],
  );
  let moved = 0;
  for (const [worker, jobs] of groupByWorker(rows)) {
    moved += await handBackUndelivered(db, worker, jobs.map((j) => ({ jobId: j.id, attempt: j.attempt })), "LEASE_EXPIRED", LEASE_EXPIRED_MESSAGE);
  }
  return moved;
}

/**
 * RUNNING jobs past their execution deadline fail with reason TIMEOUT (then retry or dead letter,
 * SPEC §3), and their worker is told to abort; a late result is refused as stale.
 */
export async function sweepExecutionTimeouts(db: Db, batch = 500): Promise<number> {
  const { rows } = await db.query<Expired>(
    `SELECT id, attempt, worker_id FROM jobs
     WHERE status = 'RUNNING' AND lease_expires_at < now() ORDER BY lease_expires_at LIMIT $1`,
    [batch],
  );
  const verdicts = await finishAttempts(
    db,
    rows.map((r) => ({
      jobId: r.id,
      attempt: r.attempt,
      workerId: null,
      outcome: { kind: "failure", message: "execution timeout passed", retryable: true, reason: "TIMEOUT" },
    })),
  );
  const timedOut = rows.filter((_, i) => verdicts[i]!.code === "accepted");
  for (const r of timedOut) {
    await notifyWorkerControl(db, { kind: "cancel", worker: r.worker_id, job: r.id, attempt: r.attempt, reason: "TIMEOUT", message: "execution timeout passed" });
  }
  return timedOut.length;
}

function groupByWorker(rows: readonly Expired[]): Map<string, Expired[]> {
  const byWorker = new Map<string, Expired[]>();
  for (const r of rows) {
    const list = byWorker.get(r.worker_id) ?? [];
    list.push(r);
    byWorker.set(r.worker_id, list);
  }
  return byWorker;
}
