import type { Db } from "../postgres/db.js";

/**
 * The cheap reads behind the dashboard's pictures, each bounded by an index range and a LIMIT,
 * none of them over job_events (docs/health.md, "Pictures"). No index orders jobs by completion
 * time (the write path keeps jobs' indexes few), so completions are found among the *recently
 * created* finished jobs of each queue: job ids are UUIDv7, so "created since t" is a range of
 * jobs_queue_status_id_idx (queue, status, id), read newest first and at most FINISHED_LIMIT rows
 * per queue and outcome.
 *
 * - completions: DONE and failure-dead-lettered jobs created within LOOKBACK_MS whose completed_at
 *   falls in the interval;
 * - backlog: PENDING jobs per queue (the PENDING-only claim index; cost follows the backlog);
 * - latency: started_at − created_at of jobs first started in the interval (attempt 1), from those
 *   finished jobs and from the ones still held by workers (jobs_worker_held_idx), LIMIT-bounded.
 */

/** Finished jobs created longer ago than this are not looked at (docs/health.md says what that misses). */
export const LOOKBACK_MS = 10 * 60_000;
/** Most finished jobs read per queue and outcome per sample. */
export const FINISHED_LIMIT = 10_000;

/**
 * How far behind now() an interval ends. completed_at is the time its transaction began, so a
 * transaction still committing when a sample runs would land behind that sample's boundary and
 * never be counted; one second covers any transaction of the write path.
 */
export const LAG_MS = 1_000;

/** $1 lag in ms. The end of the interval to sample and every queue's name. */
const BOUNDARY = `SELECT now() - $1::int * interval '1 millisecond' AS upto, coalesce(array_agg(name), '{}') AS queues FROM queues`;

/** $1 queues, $2 from (exclusive), $3 upto (inclusive), $4 lowest id (created since), $5 rows per queue and outcome, $6 latencies wanted. */
const FINISHED = `
  WITH recent AS (
    SELECT r.* FROM unnest($1::text[]) AS q(name) CROSS JOIN LATERAL (
      (SELECT j.status, j.status_reason, j.completed_at, j.started_at, j.created_at, j.attempt FROM jobs j
       WHERE j.queue = q.name AND j.status = 'DONE' AND j.id >= $4::uuid ORDER BY j.id DESC LIMIT $5)
      UNION ALL
      (SELECT j.status, j.status_reason, j.completed_at, j.started_at, j.created_at, j.attempt FROM jobs j
       WHERE j.queue = q.name AND j.status = 'DEAD_LETTERED' AND j.id >= $4::uuid ORDER BY j.id DESC LIMIT $5)
    ) r
  ), finished AS (
    SELECT * FROM recent WHERE completed_at > $2 AND completed_at <= $3
  )
  SELECT (SELECT count(*) FROM finished WHERE status = 'DONE')::int AS succeeded,
         (SELECT count(*) FROM finished WHERE status = 'DEAD_LETTERED' AND status_reason IN ('RETRIES_EXHAUSTED', 'NOT_RETRYABLE'))::int AS failed,
         (SELECT coalesce(array_agg(x.ms), '{}') FROM (
            SELECT (extract(epoch FROM started_at - created_at) * 1000)::float8 AS ms FROM finished
            WHERE attempt = 1 AND started_at > $2 ORDER BY completed_at DESC LIMIT $6) x) AS latencies`;

/** No parameters. */
const PENDING = `SELECT queue, count(*)::int AS n FROM jobs WHERE status = 'PENDING' GROUP BY queue`;

/** $1 from (exclusive), $2 upto (inclusive), $3 limit. Jobs held by workers that first started in the interval. */
const HELD_LATENCIES = `
  SELECT (extract(epoch FROM started_at - created_at) * 1000)::float8 AS ms FROM jobs
  WHERE status IN ('ASSIGNED', 'RUNNING') AND started_at > $1 AND started_at <= $2 AND attempt = 1
  LIMIT $3`;

export interface RawSample {
  readonly upto: Date;
  readonly succeeded: number;
  readonly failed: number;
  readonly pending: Map<string, number>;
  readonly latenciesMs: number[];
}

/** The boundary of the next interval (the first sample only establishes it). */
export async function readBoundary(db: Db): Promise<{ upto: Date; queues: string[] }> {
  const { rows } = await db.query<{ upto: Date; queues: string[] }>(BOUNDARY, [LAG_MS]);
  return rows[0]!;
}

/** Everything one point needs for the interval (from, upto]. */
export async function readSample(db: Db, from: Date, latencyLimit: number): Promise<RawSample> {
  const { upto, queues } = await readBoundary(db);
  const createdSince = uuidV7Floor(upto.getTime() - LOOKBACK_MS);
  const [finished, pending, held] = await Promise.all([
    db.query<{ succeeded: number; failed: number; latencies: number[] }>(FINISHED, [queues, from, upto, createdSince, FINISHED_LIMIT, latencyLimit]),
    db.query<{ queue: string; n: number }>(PENDING),
    db.query<{ ms: number }>(HELD_LATENCIES, [from, upto, latencyLimit]),
  ]);
  const f = finished.rows[0]!;
  return {
    upto,
    succeeded: f.succeeded,
    failed: f.failed,
    pending: new Map(pending.rows.map((r) => [r.queue, r.n])),
    latenciesMs: [...f.latencies, ...held.rows.map((r) => r.ms)].map((ms) => Math.max(0, ms)),
  };
}

/** The lowest UUIDv7 of millisecond `ms`: every job created at or after `ms` has an id at least this. */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
