import { PostgresLeaderElector } from "../../libs/leader/index.js";
import { extendBed, useElectionBed, type ElectionBed } from "./election-bed.js";
import { LEASE_MS } from "./election-timing.js";
import { leaderTestLogger } from "./leader-watch.js";

// Leader election on a Postgres advisory lock (SPEC §10), in a fresh database of the bed's Postgres.

export interface PostgresElectionBed extends ElectionBed<PostgresLeaderElector> {
  /** Backend pids of an elector's own session (application_name jq-leader:<node>). */
  sessionsOf(nodeId: string): Promise<number[]>;
  /** Backend pids holding an advisory lock in the test database. */
  advisoryLockHolders(): Promise<number[]>;
}

/** useElectionBed on Postgres, plus a look at the electors' sessions and locks. */
export function usePostgresElection(): PostgresElectionBed {
  const bed = useElectionBed<PostgresLeaderElector>({
    create: (db, name, nodeId, now) =>
      new PostgresLeaderElector({ name, nodeId, databaseUrl: db.url, leaseMs: LEASE_MS, now, log: leaderTestLogger(nodeId) }),
    node: (db, name, nodeId) => ({ kind: "postgres", name, nodeId, leaseMs: LEASE_MS, databaseUrl: db.url }),
  });
  return extendBed(bed, {
    async sessionsOf(nodeId: string): Promise<number[]> {
      const { rows } = await bed.db.pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
        [`jq-leader:${nodeId}`],
      );
      return rows.map((r) => r.pid);
    },
    async advisoryLockHolders(): Promise<number[]> {
      const { rows } = await bed.db.pool.query<{ pid: number }>(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      );
      return rows.map((r) => r.pid);
    },
  });
}
