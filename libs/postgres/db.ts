import type pg from "pg";

/** What repositories take: the pool for one-statement work, or a client inside a transaction. */
export type Db = pg.Pool | pg.PoolClient;

/** Runs `fn` in one transaction on one client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, begin = "BEGIN"): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Runs reads that must agree with each other in one read-only transaction, on one snapshot. */
export function withSnapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, fn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

/**
 * Runs `fn` in a transaction: a new one on a pool, or the caller's when given a client (the
 * caller began it, e.g. a fenced scheduler transaction). Lets one write path serve both.
 */
export async function inTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return isPool(db) ? withTransaction(db, fn) : fn(db);
}

function isPool(db: Db): db is pg.Pool {
  return typeof (db as pg.Pool).totalCount === "number";
}

/** SQLSTATE classes and socket errors that mean "Postgres is unreachable", not "bad request". */
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "57P01", "57P02", "57P03", "53300"]);

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && (CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    err.message,
  );
}

/** The SQLSTATE of a pg error, if any. */
export function sqlState(err: unknown): string | undefined {
  return err instanceof Error ? (err as { code?: string }).code : undefined;
}
