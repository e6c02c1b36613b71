import type pg from "pg";
import { describe, expect, it } from "vitest";
import { PostgresLeaderElector, publishedLeaderTerm } from "../../libs/leader/index.js";
import { eventually } from "../support/eventually.js";
import { leaderTestLogger, nextDemotion, nextElection } from "../support/leader-watch.js";
import { LEASE_MS, RENEW_MS } from "../support/election-timing.js";
import { usePostgresElection } from "../support/postgres-election.js";

// The Postgres elector's own session (libs/leader/postgres-elector.ts): what it sets on it, when
// it opens and ends it, and the rounds where a term is not taken after all.
describe("postgres leader election: the elector's session", () => {
  const bed = usePostgresElection();
  const { elector, electors, slackMs, sessionsOf, advisoryLockHolders } = bed;

  /** The elector's own connection, to run SQL in its session (private: read for the test only). */
  const sessionOf = (e: PostgresLeaderElector): pg.Client => (e as unknown as { client: pg.Client }).client;

  it("names its session and gives it the lease as idle timeout and keepalive", async () => {
    const a = new PostgresLeaderElector({ name: bed.name, nodeId: "a", databaseUrl: bed.db.url, leaseMs: 3_000, log: leaderTestLogger("a") });
    electors.push(a);
    expect(a.name).toBe(`leader-election(${bed.name})`);
    await a.start();
    await nextElection([a]);
    const { rows } = await sessionOf(a).query<Record<string, string | boolean>>(
      `SELECT current_setting('application_name') AS application_name, current_setting('idle_session_timeout') AS idle,
              current_setting('tcp_keepalives_idle') AS keepalive_idle, current_setting('tcp_keepalives_interval') AS keepalive_interval,
              current_setting('tcp_keepalives_count') AS keepalive_count, inet_client_addr() IS NOT NULL AS tcp`,
    );
    // The bed's Postgres is on loopback TCP: Postgres reports keepalive settings of TCP sessions only.
    expect(rows[0]).toEqual({ application_name: "jq-leader:a", idle: "3s", keepalive_idle: "3", keepalive_interval: "1", keepalive_count: "2", tcp: true });
  });

  it("fails to start while Postgres is unreachable", async () => {
    const url = new URL(bed.db.url);
    url.port = "1"; // nothing listens there
    const a = new PostgresLeaderElector({ name: bed.name, nodeId: "a", databaseUrl: url.toString(), leaseMs: LEASE_MS, log: leaderTestLogger("a") });
    electors.push(a);
    await expect(a.start()).rejects.toThrow();
    expect(a.isLeader()).toBe(false);
  });

  it("stopped while it connects: start fails, and the session it opened is ended", async () => {
    const a = elector("a");
    const started = a.start();
    const stopped = a.stop();
    await expect(started).rejects.toThrow("leader elector stopped");
    await stopped;
    expect(a.isLeader()).toBe(false);
    await eventually("the session to end", async () => (await sessionsOf("a")).length === 0, 2_000, 10);
    expect(await advisoryLockHolders()).toEqual([]);
  });

  it("ends a standby's session on stop", async () => {
    const a = elector("a");
    await a.start();
    await nextElection([a]);
    const b = elector("b");
    await b.start();
    expect(await sessionsOf("b")).toHaveLength(1);
    await b.stop();
    // Well within idle_session_timeout (a lease), which would end it anyway.
    await eventually("b's session to end", async () => (await sessionsOf("b")).length === 0, LEASE_MS / 2, 10);
  });

  it("survives losing a standby's session: it reconnects and leads once the leader stops", async () => {
    const a = elector("a");
    await a.start();
    const first = await nextElection([a]);
    const b = elector("b");
    await b.start();
    const [pid] = await sessionsOf("b");
    await bed.db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
    await eventually("b to reconnect", async () => (await sessionsOf("b")).some((p) => p !== pid), 5_000, 20);
    await a.stop();
    const next = await nextElection([b]);
    expect(next.term).toBeGreaterThan(first.term);
  });

  it("says it no longer leads once its clock passes the lease and lets its session go, so the standby leads, not itself again", async () => {
    let skewMs = 0;
    const a = elector("a", () => performance.now() + skewMs);
    await a.start();
    const { term } = await nextElection([a]);
    const b = elector("b");
    await b.start();
    const demoted = nextDemotion(a);
    skewMs = LEASE_MS;
    expect(a.isLeader()).toBe(false);
    expect(await demoted).toMatchObject({ term, reason: "lease-expired" });
    const lapsedAt = performance.now();
    const next = await nextElection([a, b]);
    expect(next.elector).toBe(b);
    expect(next.term).toBeGreaterThan(term);
    expect(next.at - lapsedAt).toBeLessThan(RENEW_MS + slackMs());
  });

  /** Holds the election's jq_leader row FOR UPDATE until `release` (an open fenced transaction would, in share mode). */
  async function holdRow(): Promise<{ waiting(): Promise<boolean>; release(sql?: string): Promise<void> }> {
    await bed.db.pool.query("INSERT INTO jq_leader (name, term, node_id, elected_at) VALUES ($1, 1, 'old', now())", [bed.name]);
    const holder = await bed.db.pool.connect();
    await holder.query("BEGIN");
    await holder.query("SELECT 1 FROM jq_leader WHERE name = $1 FOR UPDATE", [bed.name]);
    return {
      async waiting() {
        const { rows } = await bed.db.pool.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'jq-leader:a' AND wait_event_type = 'Lock'");
        return rows.length > 0;
      },
      async release(sql) {
        try {
          if (sql) await holder.query(sql, [bed.name]);
          await holder.query("COMMIT");
        } finally {
          holder.release();
        }
      },
    };
  }

  it("does not lead when a newer term was published while it took the lock, and lets the lock go", async () => {
    const row = await holdRow();
    const a = elector("a");
    const started = a.start();
    await eventually("a's publish to wait for the row", () => row.waiting(), 5_000, 5);
    // Another elector (of the other kind, say) publishes a much newer term meanwhile.
    await row.release("UPDATE jq_leader SET term = 1000, node_id = 'other' WHERE name = $1");
    await started;
    expect(a.isLeader()).toBe(false);
    expect(await advisoryLockHolders()).toEqual([]);
    expect(await publishedLeaderTerm(bed.db.pool, bed.name)).toEqual({ name: bed.name, term: 1000n, nodeId: "other" });
    // Its next round takes a term above the published one.
    const next = await nextElection([a]);
    expect(next.term).toBeGreaterThan(1000n);
  });

  it("ends its session when publishing its term fails, so it holds no lock without a term", async () => {
    const row = await holdRow();
    const a = elector("a");
    const started = a.start();
    try {
      await eventually("a's publish to wait for the row", () => row.waiting(), 5_000, 5);
      const [pid] = await sessionsOf("a");
      // The publish gives up after its lock timeout (a renew interval); the session goes with it.
      await started;
      expect(a.isLeader()).toBe(false);
      expect(await sessionsOf("a")).not.toContain(pid);
      expect(await advisoryLockHolders()).not.toContain(pid);
    } finally {
      await row.release();
    }
    await nextElection([a]);
  });
});
