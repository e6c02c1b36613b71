import pg from "pg";

export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
  /** Session settings sent at connection start (`-c name=value`), after any the URL's `options` names. */
  readonly settings?: Readonly<Record<string, string>>;
}

/**
 * The session settings of the processes that write jobs (apps/api, apps/scheduler): no sequential
 * scans. Their statements find rows by key, and each keeps the plan it was first given for the
 * connection's life. Made while `jobs` held a few pages, that plan was a sequential scan, the
 * cheapest read of a tiny table, and it stayed one as the table grew: in the bench, a claim of 8
 * jobs planned that way read 34,259 rows (docs/write-path.md, "Plans made on a small table").
 * With sequential scans off the planner takes the index, which is right at every size; a statement
 * that no index can serve still scans the table.
 */
export const WRITE_PATH_SETTINGS: Readonly<Record<string, string>> = { enable_seqscan: "off" };

/**
 * The connection string and startup `options` parameter for `settings`. An `options` in the URL
 * would replace the one node-postgres is given, so it moves out of the URL and goes first.
 */
export function connectionOptions(url: string, settings: Readonly<Record<string, string>>): { connectionString: string; options?: string } {
  const ours = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`);
  if (ours.length === 0) return { connectionString: url };
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const own = parsed?.searchParams.get("options");
  if (parsed === undefined || own === null || own === undefined) return { connectionString: url, options: ours.join(" ") };
  parsed.searchParams.delete("options");
  return { connectionString: parsed.toString(), options: [own, ...ours].join(" ") };
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
 * nothing measurable (docs/write-path.md, "Plans made on an empty table"). The hot statements'
 * plans are now right at every size (WRITE_PATH_SETTINGS below); the lifetime still bounds any
 * other statement's.
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
    ...connectionOptions(options.url, options.settings ?? {}),
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
