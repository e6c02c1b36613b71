import type pg from "pg";
import { processCpuSeconds, processFamilyCpuSeconds } from "./cpu-time.js";

// Postgres' CPU split by who it worked for: each backend's CPU (from /proc) is put under its
// connection's application_name, or its backend_type for Postgres' own processes (autovacuum
// worker, walwriter, checkpointer, …). Backends that exited during the phase are only in the
// postmaster's reaped-children total; they show up, with the postmaster itself, as "other". Linux only.

export interface PostgresCpuSnapshot {
  readonly total: number;
  /** Per backend pid: [client, CPU seconds so far]. */
  readonly backends: ReadonlyMap<number, readonly [string, number]>;
}

const BACKENDS = `SELECT pid, coalesce(nullif(application_name, ''), backend_type, 'unknown') AS client FROM pg_stat_activity`;

export async function snapshotPostgresCpu(connection: pg.Client, postmasterPid: number): Promise<PostgresCpuSnapshot> {
  const { rows } = await connection.query<{ pid: number; client: string }>(BACKENDS);
  const backends = new Map(rows.map((r) => [r.pid, [r.client, processCpuSeconds(r.pid)] as const]));
  return { total: processFamilyCpuSeconds(postmasterPid), backends };
}

/** CPU seconds per client between two snapshots; "other" is what the per-backend figures miss. */
export function postgresCpuByClient(before: PostgresCpuSnapshot, after: PostgresCpuSnapshot): Record<string, number> {
  const byClient: Record<string, number> = {};
  let attributed = 0;
  for (const [pid, [client, seconds]] of after.backends) {
    const used = seconds - (before.backends.get(pid)?.[1] ?? 0);
    byClient[client] = (byClient[client] ?? 0) + used;
    attributed += used;
  }
  byClient.other = Math.max(0, after.total - before.total - attributed);
  return byClient;
}
