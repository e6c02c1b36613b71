import type pg from "pg";

// Per-statement figures from pg_stat_statements, for runs that ask for them (--pg-stat-statements):
// the test bed does not preload the module, so the bench restarts its Postgres with it, and it
// then costs a little on every statement. Reset at a phase's start, read at its end, for the
// statements of one database, most execution time first.

export interface StatementFigures {
  /** The statement's first characters, whitespace folded. */
  readonly statement: string;
  readonly callsPerJob: number;
  /** Execution time (not planning) per job, ms. */
  readonly msPerJob: number;
  readonly meanMs: number;
  readonly rowsPerCall: number;
}

export const STATEMENT_STATS_LIBRARY = "pg_stat_statements";

/** Creates the extension in the sampler's database; its view shows every database's statements. */
export async function enableStatementStats(connection: pg.Client): Promise<void> {
  await connection.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
}

export async function resetStatementStats(connection: pg.Client): Promise<void> {
  await connection.query("SELECT pg_stat_statements_reset()");
}

// $1: database name, $2: how many statements.
const TOP_STATEMENTS = `
  SELECT left(regexp_replace(btrim(query), '\\s+', ' ', 'g'), 90) AS statement,
         calls::float8 AS calls, total_exec_time AS ms, rows::float8 AS rows
  FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
  ORDER BY total_exec_time DESC LIMIT $2`;

export async function readStatementStats(connection: pg.Client, database: string, jobs: number, top = 8): Promise<StatementFigures[]> {
  const { rows } = await connection.query<{ statement: string; calls: number; ms: number; rows: number }>(TOP_STATEMENTS, [database, top]);
  return rows.map((r) => ({
    statement: r.statement,
    callsPerJob: r.calls / jobs,
    msPerJob: r.ms / jobs,
    meanMs: r.ms / Math.max(r.calls, 1),
    rowsPerCall: r.rows / Math.max(r.calls, 1),
  }));
}
