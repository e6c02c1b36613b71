import type { JobStatus } from "../lifecycle/index.js";
import type { Db } from "../postgres/db.js";
import {
  HELD_STATUSES,
  HELD_STATUSES_SQL,
  JOB_COLUMNS_BASIC,
  JOB_COLUMNS_FULL,
  JOB_EVENT_COLUMNS,
  UNHELD_STATUSES_SQL,
  type JobEventRecord,
  type JobRecord,
} from "./job-record.js";

export async function getJob(db: Db, id: string, full = true): Promise<JobRecord | undefined> {
  const { rows } = await db.query<JobRecord>(`SELECT ${full ? JOB_COLUMNS_FULL : JOB_COLUMNS_BASIC} FROM jobs j WHERE j.id = $1`, [id]);
  return rows[0];
}

export interface JobFilter {
  readonly queue: string | null;
  readonly statuses: readonly JobStatus[];
}

/**
 * One page of jobs, newest first (UUIDv7 id order), strictly after `afterId` when given. Keyset
 * pagination: rows inserted while a client pages land before its cursor and are not seen twice,
 * and no row is skipped. The WHERE clause is assembled from constant fragments so each filter
 * combination gets a plan that uses its index: a filter by status reads, for each (queue, status)
 * pair, the newest rows of jobs_queue_status_id_idx and merges them (there is no index by status
 * alone: every status change would rewrite it), and ASSIGNED and RUNNING jobs from
 * jobs_worker_held_idx (a set bounded by the workers' concurrency); otherwise the queue's rows or
 * the primary key.
 */
export async function listJobs(
  db: Db,
  filter: JobFilter,
  page: { readonly size: number; readonly afterId: string | null; readonly full: boolean },
): Promise<{ jobs: JobRecord[]; more: boolean }> {
  if (filter.statuses.length > 0) return listJobsByStatus(db, filter, page);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.queue !== null) {
    params.push(filter.queue);
    where.push(`j.queue = $${params.length}`);
  }
  if (page.afterId !== null) {
    params.push(page.afterId);
    where.push(`j.id < $${params.length}::uuid`);
  }
  params.push(page.size + 1);
  const { rows } = await db.query<JobRecord>(
    `SELECT ${page.full ? JOB_COLUMNS_FULL : JOB_COLUMNS_BASIC} FROM jobs j
     ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY j.id DESC LIMIT $${params.length}`,
    params,
  );
  return { jobs: rows.slice(0, page.size), more: rows.length > page.size };
}

async function listJobsByStatus(
  db: Db,
  filter: JobFilter,
  page: { readonly size: number; readonly afterId: string | null; readonly full: boolean },
): Promise<{ jobs: JobRecord[]; more: boolean }> {
  const held = filter.statuses.filter((s) => HELD_STATUSES.includes(s));
  const unheld = filter.statuses.filter((s) => !HELD_STATUSES.includes(s));
  // $1 queue, $2 after id, $3 limit; each part is there only when the filter asks for its
  // statuses, so the statement holds no branch that reads an index for nothing.
  const params: unknown[] = [filter.queue, page.afterId, page.size + 1];
  const after = page.afterId === null ? "$2::uuid IS NULL" : "x.id < $2::uuid";
  const parts: string[] = [];
  if (unheld.length > 0) {
    params.push(unheld);
    parts.push(`SELECT x.* FROM queues q CROSS JOIN unnest($${params.length}::job_status[]) AS s(status), LATERAL (
       SELECT x.* FROM jobs x
       WHERE x.queue = q.name AND x.status = s.status AND x.status IN ${UNHELD_STATUSES_SQL} AND ${after}
       ORDER BY x.id DESC LIMIT $3) x
     WHERE ($1::text IS NULL OR q.name = $1::text)`);
  }
  if (held.length > 0) {
    params.push(held);
    parts.push(`SELECT x.* FROM jobs x
     WHERE x.status IN ${HELD_STATUSES_SQL} AND x.status = ANY($${params.length}::job_status[])
       AND ($1::text IS NULL OR x.queue = $1::text) AND ${after}`);
  }
  const { rows } = await db.query<JobRecord>(
    `SELECT ${page.full ? JOB_COLUMNS_FULL : JOB_COLUMNS_BASIC}
     FROM (${parts.join(" UNION ALL ")}) j
     ORDER BY j.id DESC LIMIT $3`,
    params,
  );
  return { jobs: rows.slice(0, page.size), more: rows.length > page.size };
}

/** A job's events in order, strictly after event id `afterId`, at most `limit`. */
export async function listJobEvents(db: Db, jobId: string, afterId: string, limit: number): Promise<JobEventRecord[]> {
  const { rows } = await db.query<JobEventRecord>(
    `SELECT ${JOB_EVENT_COLUMNS} FROM job_events e WHERE e.job_id = $1 AND e.id > $2::bigint ORDER BY e.id LIMIT $3`,
    [jobId, afterId, limit],
  );
  return rows;
}

/** Events of several jobs after per-job cursors, in id order: one query serves every watcher of a process. */
export async function listEventsOfJobs(
  db: Db,
  cursors: readonly { readonly jobId: string; readonly afterId: string }[],
  limit: number,
): Promise<JobEventRecord[]> {
  if (cursors.length === 0) return [];
  const { rows } = await db.query<JobEventRecord>(
    `SELECT ${JOB_EVENT_COLUMNS}
     FROM unnest($1::uuid[], $2::bigint[]) AS c(job_id, after_id)
     JOIN LATERAL (SELECT * FROM job_events x WHERE x.job_id = c.job_id AND x.id > c.after_id ORDER BY x.id LIMIT $3) e ON true
     ORDER BY e.id`,
    [cursors.map((c) => c.jobId), cursors.map((c) => c.afterId), limit],
  );
  return rows;
}

/** What a heartbeat checks of the jobs a worker says it holds. */
export interface JobState {
  readonly id: string;
  readonly status: JobStatus;
  readonly attempt: number;
  readonly workerId: string | null;
  readonly statusReason: string;
}

export async function readJobStates(db: Db, ids: readonly string[]): Promise<Map<string, JobState>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<JobState>(
    `SELECT id, status, attempt, worker_id AS "workerId", status_reason AS "statusReason" FROM jobs WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The deliveries the database says a worker holds (ASSIGNED or RUNNING for it). */
export async function heldJobs(db: Db, workerId: string): Promise<{ id: string; attempt: number }[]> {
  const { rows } = await db.query<{ id: string; attempt: number }>(
    "SELECT id, attempt FROM jobs WHERE worker_id = $1 AND status IN ('ASSIGNED', 'RUNNING')",
    [workerId],
  );
  return rows;
}
