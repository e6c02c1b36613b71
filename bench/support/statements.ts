import type pg from "pg";

// Where Postgres' time goes in a phase (`--statements`): the bench's Postgres loads
// pg_stat_statements, each phase starts from zero, and the report lists the statements of the
// system's database that took the most execution and planning time, per job.

/** Settings that load pg_stat_statements with planning times. */
export const STATEMENT_SETTINGS: Readonly<Record<string, string>> = {
  shared_preload_libraries: "pg_stat_statements",
  "pg_stat_statements.track_planning": "on",
  "pg_stat_statements.max": "1000",
};

/** One normalised statement over a phase (pg_stat_statements sums every call of it). */
export interface StatementTime {
  /** The statement's text, whitespace collapsed, cut to 100 characters. */
  readonly query: string;
  readonly calls: number;
  readonly rows: number;
  readonly execMs: number;
  readonly planMs: number;
}

/** Creates the view in the sampler's database; call once after the server started. */
export async function enableStatements(sampler: pg.Client): Promise<void> {
  await sampler.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
}

export async function resetStatements(sampler: pg.Client): Promise<void> {
  await sampler.query("SELECT pg_stat_statements_reset()");
}

/** The `limit` statements of `database` with the most time since the last reset. */
export async function readStatements(sampler: pg.Client, database: string, limit = 8): Promise<StatementTime[]> {
  const { rows } = await sampler.query<{ query: string; calls: string; rows: string; exec: number; plan: number }>(
    `SELECT left(regexp_replace(s.query, '\\s+', ' ', 'g'), 100) AS query, s.calls, s.rows,
            s.total_exec_time AS exec, s.total_plan_time AS plan
     FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE d.datname = $1
     ORDER BY s.total_exec_time + s.total_plan_time DESC LIMIT $2`,
    [database, limit],
  );
  return rows.map((r) => ({ query: r.query.trim(), calls: Number(r.calls), rows: Number(r.rows), execMs: r.exec, planMs: r.plan }));
}
