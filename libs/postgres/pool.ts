import pg from "pg";

export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
}

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
