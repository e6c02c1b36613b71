import pg from "pg";

export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
}

/**
 * How long a pooled connection lives before it is closed on its next release and replaced.
 * Postgres keeps each named statement's generic plan for the life of the connection
 * (libs/postgres/named-statement.ts) and re-plans only when the table's statistics change. A plan
 * made while `jobs` was nearly empty stays in use as the table grows until autovacuum's first
 * ANALYZE, a minute or more later: in a loop of one job at a time on a fresh database, the result
 * statement read 95 buffers per call after 1,000 jobs and 528 after 4,000 (it scans the partial
 * index jobs_worker_held_idx, whose dead entries grow with every job). With connections replaced
 * every 4 s it read 60 from the first replacement on. One reconnect per connection a minute costs
 * nothing measurable (docs/write-path.md, "Plans made on an empty table").
 */
export const CONNECTION_LIFETIME_SECONDS = 60;

/**
 * A pg Pool for one jq process. A client that loses its connection (pg_terminate_backend, a
 * Postgres restart) emits 'error'; with no listener that event kills the process. pg-pool listens
 * on idle clients only and re-emits on the pool, so every client gets its own listener for its
 * whole life, checked out or not: the query in flight still rejects (and its RPC answers
 * UNAVAILABLE), the broken client is discarded on release, readiness reports the outage and the
 * next query reconnects.
 */
export function createPool(options: PoolOptions, onError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    maxLifetimeSeconds: CONNECTION_LIFETIME_SECONDS,
    application_name: options.applicationName,
  });
  pool.on("error", onError);
  pool.on("connect", (client) => client.on("error", onError));
  return pool;
}

/** Readiness check: one round trip that proves the server answers and accepts our credentials. */
export async function pingPostgres(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT 1");
}
