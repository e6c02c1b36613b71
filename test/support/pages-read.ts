import type pg from "pg";

/** Pages each named relation gave `run`, and what it returned. */
export interface PagesRead<T> {
  readonly result: T;
  readonly pages: Readonly<Record<string, number>>;
}

/**
 * Pages of `relations` (tables or indexes) that `run` read, in one transaction rolled back after:
 * how much of the database a statement had to look at, which grows with the rows it walks and not
 * with the machine's speed. `run` goes `warmUps` times first (6: the generic plans plpgsql and
 * named statements keep after five runs).
 */
export async function pagesRead<T>(pool: pg.Pool, relations: readonly string[], run: (client: pg.PoolClient) => Promise<T>, warmUps = 6): Promise<PagesRead<T>> {
  const client = await pool.connect();
  // The counts this backend has not reported yet, which may include earlier transactions'.
  const counts = async (): Promise<number[]> => {
    const { rows } = await client.query<{ n: string }>("SELECT pg_stat_get_xact_blocks_fetched(r::regclass) AS n FROM unnest($1::text[]) AS r", [relations]);
    return rows.map((r) => Number(r.n));
  };
  try {
    await client.query("BEGIN");
    for (let i = 0; i < warmUps; i++) await run(client);
    const before = await counts();
    const result = await run(client);
    const after = await counts();
    return { result, pages: Object.fromEntries(relations.map((r, i) => [r, after[i]! - before[i]!])) };
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}
