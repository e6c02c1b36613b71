import type pg from "pg";
import { uuidV7Floor } from "../../libs/jobs/job-record.js";
import { eventually } from "./eventually.js";

/**
 * Waits until every one of `ids` is a UUIDv7 older than `seconds` on the database's clock, by the
 * rule the sweeps bound their reads with (`id < uuidV7Floor(now() - age)`): retention and TTL
 * expiry read only jobs created before their cutoff.
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
