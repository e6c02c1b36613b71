import type pg from "pg";
import { uuidV7Floor } from "../../libs/jobs/job-record.js";
import { eventually } from "./eventually.js";

/**
 * Waits until every one of `ids` is a UUIDv7 older than `seconds` on the database's clock, by the
 * rule retention bounds its read with (`id < uuidV7Floor(now() - age)`): it reads only jobs created
 * before its cutoff. TTL expiry reads only jobs due before its cutoff, which for a job due at once
 * is its created_at, a moment after its id was made.
 */
export async function untilIdsOlderThan(pool: pg.Pool, ids: readonly string[], seconds: number): Promise<void> {
  await eventually(`${ids.length} job ids to be older than ${seconds} s`, async () => {
    const { rows } = await pool.query<{ past: boolean }>(
      `SELECT bool_and(id < ${uuidV7Floor("now() - $2::int * interval '1 second'")}) AS past FROM unnest($1::uuid[]) AS id`,
      [ids, seconds],
    );
    return rows[0]!.past === true;
  });
}
