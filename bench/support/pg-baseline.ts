import type pg from "pg";
import { v7 as uuidv7 } from "uuid";

// What Postgres alone does with the rows jq stores: the same columns as jq's `jobs` table (LIKE
// copies them with their defaults and checks) plus its primary key, but none of jq's other
// indexes, no foreign key, no event or outbox rows and no NOTIFY. Inserted from the bench process
// with the same unnest-of-arrays statement shape jq uses, so the gap to jq is jq's own cost:
// gRPC, validation, mapping, and the extra rows and indexes its design writes per job.

const CREATE_BASELINE_TABLE = `
  CREATE SCHEMA bench_baseline;
  CREATE TABLE bench_baseline.jobs (LIKE public.jobs INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (id))`;

// One array per column, one element per row: $1 ids, $2 queues, $3 payloads, $4 priorities,
// $5 metadata (JSON text).
const INSERT_BASELINE_ROWS = `
  INSERT INTO bench_baseline.jobs (id, queue, payload, priority, metadata)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::smallint[], $5::jsonb[])`;

/** Creates the baseline table; call after jq's migrations created `public.jobs`. */
export async function createBaselineTable(pool: pg.Pool): Promise<void> {
  await pool.query(CREATE_BASELINE_TABLE);
}

/** Inserts `count` rows in one statement, as one transaction. */
export async function insertBaselineRows(pool: pg.Pool, queue: string, payload: Buffer, count: number): Promise<void> {
  const rows = Array.from({ length: count });
  await pool.query(INSERT_BASELINE_ROWS, [
    rows.map(() => uuidv7()),
    rows.map(() => queue),
    rows.map(() => payload),
    rows.map(() => 0),
    rows.map(() => "{}"),
  ]);
}

export async function countBaselineRows(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ count: string }>("SELECT count(*) AS count FROM bench_baseline.jobs");
  return Number(rows[0]!.count);
}
