import pg from "pg";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  PostgresLeaderElector,
  publishedLeaderTerm,
  StaleLeader,
  withFencedTransaction,
  type FenceToken,
} from "../../libs/leader/index.js";
import { startCuttableProxy } from "../support/leader-proxy.js";
import { leaderTestLogger, nextDemotion, nextElection, sampleLeaders } from "../support/leader-watch.js";
import { LEASE_MS, RENEW_MS } from "../support/election-timing.js";
import { usePostgresElection } from "../support/postgres-election.js";

// The fallback without Redis (SPEC §10): a session advisory lock on the bed's Postgres, in a
// fresh database. Each test runs its own election (a fresh name, so its own lock and row).

describe("postgres leader election", () => {
  const bed = usePostgresElection();
  const { elector, leaderNode, slackMs, sessionsOf, advisoryLockHolders } = bed;

  it("lets exactly one of two electors lead, the one whose session holds the lock", async () => {
    const a = elector("a");
    const b = elector("b");
    await Promise.all([a.start(), b.start()]);
    const { elector: leader, term } = await nextElection([a, b]);

    const samples = await sampleLeaders([a, b], 3 * LEASE_MS);
    expect(new Set(samples.map((s) => s.join(",")))).toEqual(new Set([leader.nodeId]));
    expect(await advisoryLockHolders()).toEqual(await sessionsOf(leader.nodeId));
    expect(await publishedLeaderTerm(bed.db.pool, bed.name)).toEqual({ name: bed.name, term, nodeId: leader.nodeId });
  });

  it("steps down at once when its backend is terminated, and the standby leads with a newer term", async () => {
    const a = elector("a");
    await a.start();
    const first = await nextElection([a]);
    const b = elector("b");
    await b.start();
    expect(b.isLeader()).toBe(false);

    const [pid] = await sessionsOf("a");
    const demoted = nextDemotion(a);
    const terminatedAt = performance.now();
    await bed.db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
    const demotion = await demoted;
    const next = await nextElection([b]);
    console.info(
      `postgres: after pg_terminate_backend the leader stepped down in ${(demotion.at - terminatedAt).toFixed(0)} ms, ` +
        `the standby led after ${(next.at - terminatedAt).toFixed(0)} ms (lease ${LEASE_MS} ms)`,
    );
    expect(demotion).toMatchObject({ term: first.term, reason: "connection-lost" });
    expect(demotion.at - terminatedAt).toBeLessThan(slackMs());
    expect(next.at - terminatedAt).toBeLessThan(RENEW_MS + slackMs());
    expect(next.term).toBeGreaterThan(first.term);
    expect(a.isLeader()).toBe(false);
  });

  it("gives every new term a larger number, across stops and terminated sessions", async () => {
    const terms: bigint[] = [];
    let current = elector("n0");
    await current.start();
    for (let i = 1; i <= 4; i++) {
      terms.push((await nextElection([current])).term);
      const next = elector(`n${i}`);
      await next.start();
      if (i % 2 === 0) await current.stop();
      else await bed.db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`jq-leader:${current.nodeId}`]);
      await nextElection([next]);
      await current.stop();
      current = next;
    }
    terms.push((await nextElection([current])).term);
    for (let i = 1; i < terms.length; i++) expect(terms[i]!).toBeGreaterThan(terms[i - 1]!);
    expect((await publishedLeaderTerm(bed.db.pool, bed.name))?.term).toBe(terms.at(-1));
  });

  it("hands over within a renew interval when the leader stops", async () => {
    const a = elector("a");
    await a.start();
    await nextElection([a]);
    const b = elector("b");
    await b.start();
    const stoppedAt = performance.now();
    await a.stop();
    const next = await nextElection([b]);
    console.info(`postgres: handover after a clean stop took ${(next.at - stoppedAt).toFixed(0)} ms`);
    expect(next.at - stoppedAt).toBeLessThan(RENEW_MS + slackMs());
    expect(await sessionsOf("a")).toEqual([]);
  });

  it("replaces a killed leader (SIGKILL) as soon as its session is gone", async () => {
    const node = leaderNode("doomed");
    const elected = await node.waitFor((l) => l.event === "elected", "election");
    const b = elector("b");
    await b.start();
    const killedAt = performance.now();
    node.signal("SIGKILL");
    const next = await nextElection([b]);
    console.info(`postgres: failover after SIGKILL took ${(next.at - killedAt).toFixed(0)} ms`);
    expect(next.at - killedAt).toBeLessThan(RENEW_MS + slackMs());
    expect(next.term).toBeGreaterThan(BigInt(elected.term!));
  });

  it("does not act as leader after being SIGSTOPped for longer than the lease; its session is ended meanwhile", async () => {
    const node = leaderNode("sleeper");
    const elected = await node.waitFor((l) => l.event === "elected", "election");
    await node.waitFor((l) => l.event === "acted", "a duty run");
    const b = elector("b");
    await b.start();

    const stoppedAt = performance.now();
    node.signal("SIGSTOP");
    // idle_session_timeout (= lease) ends the silent session, which frees the lock.
    const next = await nextElection([b]);
    console.info(`postgres: failover after SIGSTOP took ${(next.at - stoppedAt).toFixed(0)} ms`);
    expect(next.at - stoppedAt).toBeLessThan(LEASE_MS + RENEW_MS + slackMs());
    const bElectedWallClock = Date.now() - (performance.now() - next.at);
    expect(await sessionsOf("sleeper")).toEqual([]);

    node.signal("SIGCONT");
    const demotion = await node.waitFor((l) => l.event === "demoted", "demotion");
    expect(demotion.term).toBe(elected.term);
    expect(["lease-expired", "connection-lost"]).toContain(demotion.reason);
    expect(node.lines.filter((l) => l.event === "acted" && l.at >= bElectedWallClock)).toEqual([]);
    expect(b.isLeader()).toBe(true);
  });

  it("steps down on its deadline when cut off from Postgres; the server ends the silent session", async () => {
    const proxy = await startCuttableProxy(bed.db.url);
    try {
      const a = new PostgresLeaderElector({ name: bed.name, nodeId: "a", databaseUrl: proxy.url, leaseMs: LEASE_MS, log: leaderTestLogger("a") });
      bed.electors.push(a);
      await a.start();
      const first = await nextElection([a]);
      const b = elector("b");
      await b.start();

      const demoted = nextDemotion(a);
      const cutAt = performance.now();
      proxy.cut();
      const demotion = await demoted;
      expect(demotion.term).toBe(first.term);
      expect(b.isLeader()).toBe(false);
      // The server still sees a's session (the proxy keeps its socket) until idle_session_timeout.
      const next = await nextElection([b]);
      console.info(
        `postgres: partitioned leader stepped down (${demotion.reason}) after ${(demotion.at - cutAt).toFixed(0)} ms; ` +
          `standby led after ${(next.at - cutAt).toFixed(0)} ms`,
      );
      expect(next.at).toBeGreaterThan(demotion.at);
      expect(next.at - cutAt).toBeLessThan(LEASE_MS + RENEW_MS + slackMs());
      expect(next.term).toBeGreaterThan(first.term);
    } finally {
      await proxy.close();
    }
  });

  it("fences writes: the old term's write is refused after a takeover and writes nothing", async () => {
    await bed.db.pool.query("CREATE TABLE IF NOT EXISTS fenced_writes (term bigint NOT NULL, node text NOT NULL)");
    const write = (fence: FenceToken): Promise<unknown> =>
      withFencedTransaction(bed.db.pool, fence, (client) =>
        client.query("INSERT INTO fenced_writes (term, node) VALUES ($1, $2)", [fence.term.toString(), fence.nodeId]),
      );
    const a = elector("a");
    await a.start();
    const { term } = await nextElection([a]);
    const oldFence: FenceToken = { name: bed.name, term, nodeId: "a" };
    await write(oldFence);
    const b = elector("b");
    await b.start();
    await bed.db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'jq-leader:a'");
    const next = await nextElection([b]);

    await expect(write(oldFence)).rejects.toBeInstanceOf(StaleLeader);
    await write(b.fence()!);
    const { rows } = await bed.db.pool.query<{ term: string; node: string }>("SELECT term, node FROM fenced_writes ORDER BY term");
    expect(rows).toEqual([
      { term: term.toString(), node: "a" },
      { term: next.term.toString(), node: "b" },
    ]);
  });

  it("does not let a paused leader's open fenced transaction block the next term for long", async () => {
    const IDLE_MS = 300;
    // Its own pool: Postgres ends the stuck session, and the pool must not treat that as fatal.
    const pool = new pg.Pool({ connectionString: bed.db.url, max: 1 });
    pool.on("error", () => {});
    try {
      const a = elector("a");
      await a.start();
      const { term } = await nextElection([a]);
      const fence: FenceToken = { name: bed.name, term, nodeId: "a" };
      const stuck = withFencedTransaction(
        pool,
        fence,
        async (client) => {
          client.on("error", () => {});
          await sleep(3 * LEASE_MS); // the leader "pauses" with the jq_leader row held in share mode
          await client.query("SELECT 1");
        },
        { idleTimeoutMs: IDLE_MS },
      );
      const stuckOutcome = stuck.then(
        () => "committed",
        (err: Error) => `failed: ${err.message}`,
      );
      await sleep(50);
      const b = elector("b");
      await b.start();
      const terminatedAt = performance.now();
      await bed.db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'jq-leader:a'");
      const next = await nextElection([b]);
      // Postgres ended the idle transaction after IDLE_MS, long before the "leader" woke up (after
      // three leases): b leads within that, one poll and the round trips.
      expect(next.at - terminatedAt).toBeLessThan(IDLE_MS + RENEW_MS + slackMs());
      expect(next.term).toBeGreaterThan(term);
      expect(await stuckOutcome).toMatch(/^failed: /);
    } finally {
      await pool.end();
    }
  });

});

