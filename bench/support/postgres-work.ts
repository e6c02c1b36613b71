import type pg from "pg";

// What Postgres did for a system. pg_stat_database is not up to date: a backend publishes its
// counters at most once a second while busy and up to 10 s after it went idle, so they cannot be
// cut at a phase boundary. They are exact once the system's connections have closed (a backend
// publishes as it exits): `readDatabaseCounters` is read per system, after it stopped. Per phase,
// two server-wide positions are exact at once (one system runs at a time): the WAL insert
// position, and the transaction id counter, which every transaction that writes advances by one.

export interface DatabaseCounters {
  readonly transactions: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
}

// $1: database name.
const READ = `
  SELECT xact_commit + xact_rollback AS transactions, tup_inserted, tup_updated, tup_deleted
  FROM pg_stat_database WHERE datname = $1`;

export async function readDatabaseCounters(connection: pg.Client, database: string): Promise<DatabaseCounters> {
  await connection.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await connection.query<{ transactions: string; tup_inserted: string; tup_updated: string; tup_deleted: string }>(READ, [database]);
  const row = rows[0];
  if (row === undefined) throw new Error(`no database ${database}`);
  return {
    transactions: Number(row.transactions),
    rowsInserted: Number(row.tup_inserted),
    rowsUpdated: Number(row.tup_updated),
    rowsDeleted: Number(row.tup_deleted),
  };
}

export function countersPerJob(c: DatabaseCounters, jobs: number): DatabaseCounters {
  return { transactions: c.transactions / jobs, rowsInserted: c.rowsInserted / jobs, rowsUpdated: c.rowsUpdated / jobs, rowsDeleted: c.rowsDeleted / jobs };
}

/**
 * The next transaction id of the server. Reading it takes one id itself (it runs in a transaction
 * that then has one), which the difference of two readings subtracts.
 */
export async function nextTransactionId(connection: pg.Client): Promise<number> {
  const { rows } = await connection.query<{ xid: string }>("SELECT pg_current_xact_id()::text::bigint AS xid");
  return Number(rows[0]!.xid);
}

/** Writing transactions between two readings of nextTransactionId, the second reading's own left out. */
export const writeTransactionsBetween = (before: number, after: number): number => after - before - 1;

export async function walPosition(connection: pg.Client): Promise<string> {
  const { rows } = await connection.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
  return rows[0]!.lsn;
}

export async function walBytesSince(connection: pg.Client, lsn: string): Promise<number> {
  const { rows } = await connection.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn) AS bytes", [lsn]);
  return Number(rows[0]!.bytes);
}
