import type { Db } from "../postgres/db.js";
import type { JobLatency } from "./start-latencies.js";

/**
 * The cheap reads behind the dashboard's pictures, each bounded by an index range and a LIMIT,
 * none of them over job_events (docs/health.md, "Pictures"). No index orders jobs by completion
 * time (the write path keeps jobs' indexes few), so completions are found among the *recently
 * created* jobs: job ids are UUIDv7, so "created in the last LOOKBACK_MS" is the newest end of the
 * primary key, read backwards and at most RECENT_LIMIT rows. A sample's cost therefore follows
 * the submission rate, not the size of the table.
 *
 * - completions: DONE and failure-dead-lettered jobs among those recent ones whose completed_at
 *   falls in the interval, per queue;
 * - backlog: PENDING jobs per queue (the PENDING-only claim index; cost follows the backlog);
 * - latency: started_at − created_at (attempt 1) of those finished jobs and of every job held by a
 *   worker (jobs_worker_held_idx), LIMIT-bounded; start-latencies.ts counts each job once.
 */

/** Jobs created longer ago than this are not looked at (docs/health.md says what that misses). */
export const LOOKBACK_MS = 2 * 60_000;
/** Most recent jobs read per sample: all of the lookback up to ~800 submissions a second. */
export const RECENT_LIMIT = 100_000;

/**
 * How far behind now() an interval ends. completed_at is the time its transaction began, so a
 * transaction still committing when a sample runs would land behind that sample's boundary and
 * never be counted; one second covers any transaction of the write path.
 */
export const LAG_MS = 1_000;

/** $1 lag in ms. The end of the interval to sample. */
const BOUNDARY = `SELECT now() - $1::int * interval '1 millisecond' AS upto`;

/** $1 from (exclusive), $2 upto (inclusive), $3 lowest id (created since), $4 most rows read. */
const FINISHED = `
  SELECT r.queue,
         count(*) FILTER (WHERE r.status = 'DONE')::int AS succeeded,
         count(*) FILTER (WHERE r.status = 'DEAD_LETTERED' AND r.status_reason IN ('RETRIES_EXHAUSTED', 'NOT_RETRYABLE'))::int AS failed,
         array_agg(r.id::text ORDER BY r.id) FILTER (WHERE r.attempt = 1 AND r.started_at IS NOT NULL) AS latency_ids,
         array_agg((extract(epoch FROM r.started_at - r.created_at) * 1000)::float8 ORDER BY r.id) FILTER (WHERE r.attempt = 1 AND r.started_at IS NOT NULL) AS latencies
  FROM (SELECT j.id, j.queue, j.status, j.status_reason, j.completed_at, j.started_at, j.created_at, j.attempt
        FROM jobs j WHERE j.id >= $3::uuid ORDER BY j.id DESC LIMIT $4) r
  WHERE r.status IN ('DONE', 'DEAD_LETTERED') AND r.completed_at > $1 AND r.completed_at <= $2
  GROUP BY r.queue`;

/** No parameters. */
const PENDING = `SELECT queue, count(*)::int AS n FROM jobs WHERE status = 'PENDING' GROUP BY queue`;

/** $1 upto (inclusive), $2 limit. Jobs held by workers in their first attempt, started by upto. */
const HELD_LATENCIES = `
  SELECT id::text, (extract(epoch FROM started_at - created_at) * 1000)::float8 AS ms FROM jobs
  WHERE status IN ('ASSIGNED', 'RUNNING') AND started_at <= $1 AND attempt = 1
  LIMIT $2`;

/** Most held jobs read per sample: the ones already counted are read again, so more than the sample keeps. */
const HELD_LIMIT = 10_000;

export interface RawSample {
  readonly upto: Date;
  readonly succeeded: number;
  readonly failed: number;
  readonly pending: Map<string, number>;
  /** Attempt-1 jobs finished in the interval, and jobs held by workers: StartLatencies picks. */
  readonly finishedLatencies: JobLatency[];
  readonly heldLatencies: JobLatency[];
}

/** The boundary of the next interval (the first sample only establishes it). */
export async function readBoundary(db: Db): Promise<Date> {
  const { rows } = await db.query<{ upto: Date }>(BOUNDARY, [LAG_MS]);
  return rows[0]!.upto;
}

/** Everything one point needs for the interval (from, upto]. */
export async function readSample(db: Db, from: Date): Promise<RawSample> {
  const upto = await readBoundary(db);
  const createdSince = uuidV7Floor(upto.getTime() - LOOKBACK_MS);
  const [finished, pending, held] = await Promise.all([
    db.query<{ queue: string; succeeded: number; failed: number; latency_ids: string[] | null; latencies: number[] | null }>(FINISHED, [
      from,
      upto,
      createdSince,
      RECENT_LIMIT,
    ]),
    db.query<{ queue: string; n: number }>(PENDING),
    db.query<JobLatency>(HELD_LATENCIES, [upto, HELD_LIMIT]),
  ]);
  const rows = finished.rows;
  return {
    upto,
    succeeded: rows.reduce((n, r) => n + r.succeeded, 0),
    failed: rows.reduce((n, r) => n + r.failed, 0),
    pending: new Map(pending.rows.map((r) => [r.queue, r.n])),
    finishedLatencies: rows.flatMap((r) => (r.latency_ids ?? []).map((id, i) => ({ id, ms: r.latencies![i]! }))),
    heldLatencies: held.rows,
  };
}

/** The lowest UUIDv7 of millisecond `ms`: every job created at or after `ms` has an id at least this. */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
