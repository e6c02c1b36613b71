import type { Db } from "../postgres/db.js";
import type { WorkerStatus } from "../workers/worker-store.js";

/** The few reads only the cluster view needs; the rest comes from the owning stores. */

export type WorkerCounts = Record<WorkerStatus, number>;

/** No parameters. Workers per status (OFFLINE rows stay until retention removes them). */
const COUNT_WORKERS = `SELECT status::text AS status, count(*)::int AS n FROM workers GROUP BY status`;

export async function countWorkersByStatus(db: Db): Promise<WorkerCounts> {
  const counts: WorkerCounts = { ONLINE: 0, DRAINING: 0, OFFLINE: 0 };
  const { rows } = await db.query<{ status: WorkerStatus; n: number }>(COUNT_WORKERS);
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

export interface RecentDeadLetter {
  readonly id: string;
  readonly queue: string;
  readonly reason: string;
  readonly errorMessage: string | null;
  readonly completedAt: Date | null;
}

/**
 * $1 limit. Recent dead letters, most recently dead-lettered first, among the newest `$1` dead
 * letters of each queue by id (the (queue, status, id) index; no index orders jobs by completion,
 * since every status change would rewrite it): a job submitted long before many newer dead
 * letters of its queue may be left out.
 */
const RECENT_DEAD_LETTERS = `
  SELECT j.id, j.queue, j.status_reason AS reason, j.error_message AS "errorMessage", j.completed_at AS "completedAt"
  FROM queues q, LATERAL (
    SELECT x.id, x.queue, x.status_reason, x.error_message, x.completed_at FROM jobs x
    WHERE x.queue = q.name AND x.status = 'DEAD_LETTERED' ORDER BY x.id DESC LIMIT $1) j
  ORDER BY j.completed_at DESC NULLS LAST, j.id DESC LIMIT $1`;

export async function listRecentDeadLetters(db: Db, limit: number): Promise<RecentDeadLetter[]> {
  const { rows } = await db.query<RecentDeadLetter>(RECENT_DEAD_LETTERS, [limit]);
  return rows;
}

export interface JobBytesHead {
  readonly payloadSize: number;
  readonly payloadHead: Buffer;
  readonly resultSize: number | null;
  readonly resultHead: Buffer | null;
}

/**
 * $1 job id, $2 bytes wanted. The first bytes of a job's payload and result and their full sizes,
 * so the job page never reads a large payload whole (Postgres slices the bytea).
 */
const JOB_BYTES_HEAD = `
  SELECT octet_length(payload) AS "payloadSize", substring(payload FROM 1 FOR $2) AS "payloadHead",
         octet_length(result) AS "resultSize", substring(result FROM 1 FOR $2) AS "resultHead"
  FROM jobs WHERE id = $1`;

export async function readJobBytesHead(db: Db, jobId: string, bytes: number): Promise<JobBytesHead | undefined> {
  const { rows } = await db.query<JobBytesHead>(JOB_BYTES_HEAD, [jobId, bytes]);
  return rows[0];
}
