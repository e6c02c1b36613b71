import type { Db } from "../postgres/db.js";
import { namedStatement } from "../postgres/named-statement.js";
import { reconcileHeldJobs, sameDeliveries, type AbsentDelivery, type DeliveryRef, type HeldDelivery } from "../workers/held-jobs-reconciliation.js";
import { releaseDeliveries } from "./release-worker-jobs.js";

/** A heartbeat that lists everything its worker holds (`held_jobs_complete`). */
export interface CompleteHeartbeat {
  readonly workerId: string;
  readonly reported: readonly DeliveryRef[];
  /** The worker's results and delivery marks the receiving replica has not yet written. */
  readonly inFlight: readonly DeliveryRef[];
}

export const LOST_BY_HEARTBEAT = "the worker no longer holds the job: missing from its heartbeats";

/** $1 worker ids: what each live one holds, with its remembered absences and the database's clock. */
const HELD_JOBS = namedStatement(
  `SELECT w.worker_id, w.absent_jobs, j.id AS job_id, j.attempt, j.status, (extract(epoch FROM now()) * 1000)::bigint::text AS now
   FROM workers w LEFT JOIN jobs j ON j.worker_id = w.worker_id AND j.status IN ('ASSIGNED', 'RUNNING')
   WHERE w.worker_id = ANY($1::uuid[]) AND w.status <> 'OFFLINE'`,
);
/** $1 worker ids, $2 their absences (jsonb). */
const SAVE_ABSENCES = namedStatement(
  `UPDATE workers w SET absent_jobs = v.absent FROM unnest($1::uuid[], $2::jsonb[]) AS v(id, absent) WHERE w.worker_id = v.id`,
);

/**
 * Reconciles the jobs the database says these workers hold with what their heartbeats list
 * (issue 13 item 8; the rule is `reconcileHeldJobs`): remembers this heartbeat's absences, with
 * when each began on the database's clock, in `workers.absent_jobs`, and releases the deliveries
 * absent twice in a row for at least `graceMs`, through the lifecycle's lost-worker moves. Returns how many jobs each worker lost (only workers that lost some).
 */
export async function reconcileHeartbeats(db: Db, beats: readonly CompleteHeartbeat[], graceMs: number): Promise<Map<string, number>> {
  const released = new Map<string, number>();
  if (beats.length === 0) return released;
  const { rows } = await db.query<{ worker_id: string; absent_jobs: AbsentDelivery[]; job_id: string | null; attempt: number | null; status: HeldDelivery["status"] | null; now: string }>(
    HELD_JOBS([beats.map((b) => b.workerId)]),
  );
  const views = new Map<string, { previouslyAbsent: AbsentDelivery[]; held: HeldDelivery[] }>();
  const now = rows.length > 0 ? Number(rows[0]!.now) : 0;
  for (const r of rows) {
    const view = views.get(r.worker_id) ?? { previouslyAbsent: r.absent_jobs, held: [] };
    views.set(r.worker_id, view);
    if (r.job_id !== null) view.held.push({ jobId: r.job_id, attempt: r.attempt!, status: r.status! });
  }
  const changed: { workerId: string; absent: AbsentDelivery[] }[] = [];
  const lost: { workerId: string; handBack: HeldDelivery[] }[] = [];
  for (const beat of beats) {
    const view = views.get(beat.workerId);
    if (!view) continue;
    const r = reconcileHeldJobs({ ...view, reported: beat.reported, inFlight: beat.inFlight, now, graceMs });
    if (!sameDeliveries(view.previouslyAbsent, r.absent)) changed.push({ workerId: beat.workerId, absent: r.absent });
    if (r.handBack.length > 0) lost.push({ workerId: beat.workerId, handBack: r.handBack });
  }
  if (changed.length > 0) {
    await db.query(SAVE_ABSENCES([changed.map((c) => c.workerId), changed.map((c) => JSON.stringify(c.absent))]));
  }
  for (const { workerId, handBack } of lost) {
    const n = await releaseDeliveries(db, workerId, handBack, LOST_BY_HEARTBEAT);
    if (n > 0) released.set(workerId, n);
  }
  return released;
}
