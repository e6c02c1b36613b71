import type pg from "pg";

/** Jobs jq stored in `queue`: the bench's proof that every call it counted created its jobs. */
export async function countJobsInQueue(pool: pg.Pool, queue: string): Promise<number> {
  const { rows } = await pool.query<{ count: string }>("SELECT count(*) AS count FROM jobs WHERE queue = $1", [queue]);
  return Number(rows[0]!.count);
}
