import pg from "pg";

export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
}

/**
 * A pg Pool for one jq process. An idle client that loses its connection emits 'error' on the
 * pool; without a listener that would crash the process, so the error is handed to `onError`
 * (readiness reports the outage; the next query reconnects).
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
  return pool;
}

/** Readiness check: one round trip that proves the server answers and accepts our credentials. */
export async function pingPostgres(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT 1");
}
