import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

// What a phase's WAL is made of (`--wal-records`): pg_walinspect reads the records between the
// phase's two LSNs, and the report lists the relations and record kinds that took the most bytes,
// per job, with the full-page images among them. WAL is the cluster's, so the phase's system is
// the only one writing while it is read.

export interface WalRecords {
  /** The relation a record's first block belongs to (its resource manager when none). */
  readonly relation: string;
  /** resource manager / record type, e.g. Heap/HOT_UPDATE, Btree/INSERT_LEAF. */
  readonly kind: string;
  readonly count: number;
  /** Whole records, full-page images included. */
  readonly bytes: number;
  readonly fpiBytes: number;
}

/** The `limit` heaviest (relation, kind) pairs between two LSNs, named in `databaseUrl`'s catalog. */
export async function readWalRecords(databaseUrl: string, from: string, to: string, limit = 14): Promise<WalRecords[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "bench-sampler" });
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
    // pg_walinspect reads flushed WAL only; the WAL writer flushes the rest within wal_writer_delay.
    const flushed = async (): Promise<boolean> =>
      (await client.query<{ ok: boolean }>("SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok", [to])).rows[0]!.ok;
    while (!(await flushed())) await sleep(50);
    const { rows } = await client.query<{ relation: string; kind: string; count: string; bytes: string; fpi: string }>(
      `SELECT coalesce(pg_filenode_relation(0, (regexp_match(block_ref, 'rel \\d+/\\d+/(\\d+)'))[1]::oid)::text, resource_manager) AS relation,
              resource_manager || '/' || record_type AS kind, count(*) AS count, sum(record_length) AS bytes, sum(fpi_length) AS fpi
       FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
       GROUP BY 1, 2 ORDER BY sum(record_length) DESC LIMIT $3`,
      [from, to, limit],
    );
    return rows.map((r) => ({ relation: r.relation, kind: r.kind, count: Number(r.count), bytes: Number(r.bytes), fpiBytes: Number(r.fpi) }));
  } finally {
    await client.end();
  }
}
