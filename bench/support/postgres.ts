import pg from "pg";
import { DURABLE_SETTINGS, startLocalPostgres } from "../../test/bed/postgres.js";
import { parentPidOf } from "./cpu-time.js";
import { enableStatements, STATEMENT_SETTINGS } from "./statements.js";

// The bench's one Postgres, shared by the systems that keep their jobs in it (each in its own
// database), and what it did for a phase: WAL bytes, commits and rows written. Durable by default;
// the data directory is deleted on stop.

export const DATABASES = { jq: "jq_bench", "pg-boss": "pgboss_bench" } as const;

export interface BenchPostgres {
  /** Superuser URL of the `postgres` database; a system's database is the same URL with its name. */
  readonly url: string;
  readonly postmasterPid: number;
  /** A connection to the `postgres` database, so its own queries count in no system's database. */
  readonly sampler: pg.Client;
  readonly settings: Readonly<Record<string, string>>;
  /** pg_stat_statements is loaded (`--statements`). */
  readonly statements: boolean;
  databaseUrl(name: string): string;
  stop(): Promise<void>;
}

/** Cumulative server counters; the difference of two readings is a phase's work. */
export interface PostgresReading {
  readonly walLsn: string;
  /** pg_stat_database of the system's database: transactions committed, rows inserted + updated + deleted. */
  readonly commits: number;
  readonly rows: number;
}

export async function startBenchPostgres(fast: boolean, statements = false): Promise<BenchPostgres> {
  // shared_buffers as a production server has it either way, so only durability differs.
  const durability = fast ? { shared_buffers: DURABLE_SETTINGS.shared_buffers! } : DURABLE_SETTINGS;
  const server = await startLocalPostgres({ settings: statements ? { ...durability, ...STATEMENT_SETTINGS } : durability });
  const sampler = new pg.Client({ connectionString: server.endpoint, application_name: "bench-sampler" });
  sampler.on("error", () => undefined);
  try {
    await sampler.connect();
    for (const name of Object.values(DATABASES)) await sampler.query(`CREATE DATABASE ${name}`);
    await prepareWalSegments(sampler);
    if (statements) await enableStatements(sampler);
    const { rows } = await sampler.query<{ pid: number; fsync: string }>("SELECT pg_backend_pid() AS pid, current_setting('fsync') AS fsync");
    const databaseUrl = (name: string): string => Object.assign(new URL(server.endpoint), { pathname: `/${name}` }).toString();
    const shown = await sampler.query<{ name: string; setting: string }>(
      "SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name",
      [["fsync", "synchronous_commit", "full_page_writes", "shared_buffers"]],
    );
    return {
      url: server.endpoint,
      postmasterPid: parentPidOf(rows[0]!.pid),
      sampler,
      settings: Object.fromEntries(shown.rows.map((r) => [r.name, r.setting])),
      statements,
      databaseUrl,
      stop: async () => {
        await sampler.end().catch(() => undefined);
        await server.stop();
      },
    };
  } catch (error) {
    await sampler.end().catch(() => undefined);
    await server.stop();
    throw error;
  }
}

/**
 * A new cluster has no WAL segments to reuse: each 16 MB of WAL is a new file that Postgres fills
 * with zeros and flushes while every commit waits (16–18 ms here, at every boundary, against a
 * 0.4 ms commit; about every 10 s in the open loop, the bursts that made its p99). A server that
 * has been running renames old segments at each checkpoint instead. So the bench writes about
 * 350 MB of WAL (a table it drops) and checkpoints, which leaves that many segments to reuse,
 * more than a whole run writes (docs/benchmarks.md, "What it starts").
 */
async function prepareWalSegments(sampler: pg.Client): Promise<void> {
  await sampler.query("CREATE TABLE bench_wal_warmup AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 300000) AS g");
  await sampler.query("DROP TABLE bench_wal_warmup");
  await sampler.query("CHECKPOINT");
}

export async function readPostgres(sampler: pg.Client, database: string): Promise<PostgresReading> {
  const { rows } = await sampler.query<{ lsn: string; commits: string; rows: string }>(
    `SELECT pg_current_wal_insert_lsn()::text AS lsn, xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS rows
     FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  return { walLsn: rows[0]!.lsn, commits: Number(rows[0]!.commits), rows: Number(rows[0]!.rows) };
}

export async function walBytesBetween(sampler: pg.Client, from: string, to: string): Promise<number> {
  const { rows } = await sampler.query<{ bytes: string }>("SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn) AS bytes", [from, to]);
  return Number(rows[0]!.bytes);
}

/** What a system wrote to one of its tables over the whole run. */
export interface TableWrites {
  readonly table: string;
  readonly inserted: number;
  readonly updated: number;
  /** Of the updates, those that were HOT (no index entries written). */
  readonly hotUpdated: number;
  readonly deleted: number;
}

/**
 * Per-table writes of a database, read once the system's connections have closed (a backend
 * publishes its counters when it exits), to show where its rows and index writes go.
 */
export async function readTableWrites(databaseUrl: string): Promise<TableWrites[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "bench-sampler" });
  await client.connect();
  try {
    const { rows } = await client.query<{ table: string; inserted: string; updated: string; hot: string; deleted: string }>(
      `SELECT schemaname || '.' || relname AS table, n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_hot_upd AS hot, n_tup_del AS deleted
       FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC`,
    );
    return rows.map((r) => ({ table: r.table, inserted: Number(r.inserted), updated: Number(r.updated), hotUpdated: Number(r.hot), deleted: Number(r.deleted) }));
  } finally {
    await client.end();
  }
}
