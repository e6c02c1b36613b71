import type { Db } from "../postgres/db.js";

/**
 * The cheap reads behind the dashboard's pictures, each bounded by an index or a LIMIT, none of
 * them over job_events (docs/health.md, "Pictures"):
 *
 * - completions: DONE and failure-dead-lettered jobs whose completed_at falls in the interval,
 *   found per queue through jobs_finished_idx (queue, completed_at);
 * - backlog: PENDING jobs per queue (jobs_status_id_idx; cost follows the backlog, not the table);
 * - latency: started_at − created_at of jobs first started in the interval (attempt 1), from the
 *   jobs that finished in it (jobs_finished_idx) and the ones still held (jobs_worker_held_idx),
 *   at most `limit` of each.
 */

/** $1 lag in ms. The end of the interval to sample (a little in the past, see LAG_MS) and every queue's name. */
const BOUNDARY = `SELECT now() - $1::int * interval '1 millisecond' AS upto, coalesce(array_agg(name), '{}') AS queues FROM queues`;

/** $1 queues, $2 from (exclusive), $3 upto (inclusive). */
const COMPLETIONS = `
  SELECT count(*) FILTER (WHERE status = 'DONE')::int AS succeeded,
         count(*) FILTER (WHERE status = 'DEAD_LETTERED' AND status_reason IN ('RETRIES_EXHAUSTED', 'NOT_RETRYABLE'))::int AS failed
  FROM jobs
  WHERE queue = ANY($1::text[]) AND status IN ('DONE', 'DEAD_LETTERED') AND completed_at > $2 AND completed_at <= $3`;

/** No parameters. */
const PENDING = `SELECT queue, count(*)::int AS n FROM jobs WHERE status = 'PENDING' GROUP BY queue`;

/** $1 queues, $2 from (exclusive), $3 upto (inclusive), $4 limit per part. */
const LATENCIES = `
  SELECT (extract(epoch FROM s.started_at - s.created_at) * 1000)::float8 AS ms FROM (
    (SELECT started_at, created_at FROM jobs
     WHERE queue = ANY($1::text[]) AND status IN ('DONE', 'DEAD_LETTERED') AND completed_at > $2 AND completed_at <= $3
       AND started_at > $2 AND attempt = 1
     ORDER BY completed_at DESC LIMIT $4)
    UNION ALL
    (SELECT started_at, created_at FROM jobs
     WHERE status IN ('ASSIGNED', 'RUNNING') AND started_at > $2 AND started_at <= $3 AND attempt = 1
     LIMIT $4)
  ) s`;

/**
 * How far behind now() an interval ends. completed_at is the time its transaction began, so a
 * transaction still committing when a sample runs would land behind that sample's boundary and
 * never be counted; one second covers any transaction of the write path.
 */
export const LAG_MS = 1_000;

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
  const [completions, pending, latencies] = await Promise.all([
    db.query<{ succeeded: number; failed: number }>(COMPLETIONS, [queues, from, upto]),
    db.query<{ queue: string; n: number }>(PENDING),
    db.query<{ ms: number }>(LATENCIES, [queues, from, upto, latencyLimit]),
  ]);
  return {
    upto,
    succeeded: completions.rows[0]!.succeeded,
    failed: completions.rows[0]!.failed,
    pending: new Map(pending.rows.map((r) => [r.queue, r.n])),
    latenciesMs: latencies.rows.map((r) => Math.max(0, r.ms)),
  };
}
