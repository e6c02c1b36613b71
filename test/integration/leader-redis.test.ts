import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  assertTermCurrent,
  publishedLeaderTerm,
  RedisLeaderElector,
  StaleLeader,
  withFencedTransaction,
  type FenceToken,
  type MonotonicClock,
} from "../../libs/leader/index.js";
import { withTransaction } from "../../libs/postgres/db.js";
import { startCuttableProxy } from "../support/leader-proxy.js";
import { startLeaderNode, type LeaderNodeProcess } from "../support/leader-process.js";
import { busyWait, leaderTestLogger, nextDemotion, nextElection, redisLock, sampleLeaders, wallClock } from "../support/leader-watch.js";
import { timerLateness } from "../support/timer-lateness.js";
import { eventually } from "../support/eventually.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { createRedisClient, deleteKeysWithPrefix, redisKeyPrefix } from "../support/redis.js";
import { uniqueTestName } from "../support/unique-name.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";

// Leader election on Redis (SPEC §7) against the bed's Redis and a fresh Postgres database for
// the published terms. Each test runs its own election (a fresh name, so fresh keys and row).
const LEASE_MS = 1_000;
const RENEW_MS = Math.floor(LEASE_MS / 3);
/**
 * Room for the round trips of one acquisition on top of a poll interval: the lock command and
 * the four statements that publish the term, to servers as loaded as this process.
 */
const ROUND_TRIPS_MS = 250;
/** How late this process's timers (so its electors') ran during the test: a loaded machine's delay, measured. */
const lateness = timerLateness();
const slackMs = () => ROUND_TRIPS_MS + lateness.maxMs();

describe("redis leader election", () => {
  let db: TestDatabase;
  let redis: Redis;
  let name: string;
  const electors: RedisLeaderElector[] = [];
  const nodes: LeaderNodeProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
    redis = await createRedisClient();
  });
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await Promise.all(nodes.splice(0).map((n) => n.kill()));
  });
  afterAll(async () => {
    lateness.stop();
    await deleteKeysWithPrefix(redis);
    await redis.quit();
    await db.drop();
  });

  function lockKey(): string {
    return `${redisKeyPrefix}{${name}}`;
  }

  function elector(nodeId: string, now?: MonotonicClock): RedisLeaderElector {
    const e = new RedisLeaderElector({
      name,
      nodeId,
      redisUrl: inject("testBed").redisUrl,
      keyPrefix: redisKeyPrefix,
      pool: db.pool,
      leaseMs: LEASE_MS,
      now,
      log: leaderTestLogger(nodeId),
    });
    electors.push(e);
    return e;
  }

  function leaderNode(nodeId: string): LeaderNodeProcess {
    const node = startLeaderNode({
      kind: "redis",
      name,
      nodeId,
      leaseMs: LEASE_MS,
      databaseUrl: db.url,
      redisUrl: inject("testBed").redisUrl,
      keyPrefix: redisKeyPrefix,
    });
    nodes.push(node);
    return node;
  }

  beforeEach(() => {
    name = uniqueTestName("election");
    lateness.reset();
  });

  it("lets exactly one of two electors lead, holding `node:term` in Redis and Postgres", async () => {
    const a = elector("a");
    const b = elector("b");
    await Promise.all([a.start(), b.start()]);
    const { elector: leader, term } = await nextElection([a, b]);

    const samples = await sampleLeaders([a, b], 3 * LEASE_MS);
    expect(new Set(samples.map((s) => s.join(",")))).toEqual(new Set([leader.nodeId]));
    expect(leader.currentTerm()).toBe(term);
    expect(await redis.get(lockKey())).toBe(`${leader.nodeId}:${term}`);
    expect(await publishedLeaderTerm(db.pool, name)).toEqual({ name, term, nodeId: leader.nodeId });
    expect((leader === a ? b : a).status()).toEqual({ leader: false, term: undefined });
  });

  it("hands over within a renew interval when the leader stops, with a newer term", async () => {
    const a = elector("a");
    await a.start();
    const first = await nextElection([a]);
    const b = elector("b");
    await b.start();
    expect(b.isLeader()).toBe(false);

    const demoted = nextDemotion(a);
    const stoppedAt = performance.now();
    await a.stop();
    expect((await demoted).reason).toBe("stopped");
    const next = await nextElection([b]);
    const handover = next.at - stoppedAt;
    console.info(`redis: handover after a clean stop took ${handover.toFixed(0)} ms (lease ${LEASE_MS} ms)`);
    expect(handover).toBeLessThan(RENEW_MS + slackMs());
    expect(next.term).toBeGreaterThan(first.term);
    expect(await redis.exists(lockKey())).toBe(1);
  });

  it("deletes its key and closes its connection on stop, and leaves a key it does not hold", async () => {
    const a = elector("a");
    await a.start();
    const { term } = await nextElection([a]);
    expect(await redis.client("LIST")).toContain("name=jq-leader:a ");
    await a.stop();
    await a.stop();
    expect(await redis.exists(lockKey())).toBe(0);
    expect(await redis.client("LIST")).not.toContain("name=jq-leader:a ");
    expect(await redis.get(`${lockKey()}:term`)).toBe(term.toString());

    // A stopping node that no longer holds the key must not delete its successor's.
    let skewMs = 0;
    const c = elector("c", () => performance.now() + skewMs);
    await c.start();
    await nextElection([c]);
    await redis.set(lockKey(), "successor:99", "PX", LEASE_MS);
    skewMs = LEASE_MS; // c's lease lapses: it releases by compare-and-delete, which must miss
    expect(c.isLeader()).toBe(false);
    await c.stop();
    expect(await redis.get(lockKey())).toBe("successor:99");
  });

  it("keeps terms increasing when Redis lost its term counter, above the term Postgres saw", async () => {
    let last = 0n;
    for (const nodeId of ["a1", "a2", "a3"]) {
      const a = elector(nodeId);
      await a.start();
      last = (await nextElection([a])).term;
      await a.stop();
    }
    expect(last).toBe(3n);
    await redis.del(`${lockKey()}:term`); // as after a Redis restart without persistence
    const b = elector("b");
    await b.start();
    const next = await nextElection([b]);
    expect(next.term).toBe(4n);
    expect(await publishedLeaderTerm(db.pool, name)).toEqual({ name, term: next.term, nodeId: "b" });
    expect(await redis.get(lockKey())).toBe(`b:${next.term}`);
  });

  it("gives every new term a larger number", async () => {
    const terms: bigint[] = [];
    let current = elector("n0");
    await current.start();
    for (let i = 1; i <= 4; i++) {
      terms.push((await nextElection([current])).term);
      const next = elector(`n${i}`);
      await next.start();
      await current.stop();
      current = next;
    }
    terms.push((await nextElection([current])).term);
    for (let i = 1; i < terms.length; i++) expect(terms[i]!).toBeGreaterThan(terms[i - 1]!);
    expect((await publishedLeaderTerm(db.pool, name))?.term).toBe(terms.at(-1));
  });

  it("replaces a killed leader (SIGKILL, no release) within one lease", async () => {
    const node = leaderNode("doomed");
    const elected = await node.waitFor((l) => l.event === "elected", "election");
    const b = elector("b");
    await b.start();
    expect(b.isLeader()).toBe(false);

    // After a renewal, so the lock's life is the renewal's (PEXPIRE), not the acquisition's.
    const acquiredTtl = await redis.pttl(lockKey());
    await eventually("the leader's first renewal", async () => (await redis.pttl(lockKey())) > acquiredTtl, 10_000, 5);
    node.signal("SIGKILL");
    await node.exited();
    const killedAt = Date.now(); // at or after the death, so at or after its last renewal
    const lock = await redisLock(redis, lockKey());
    expect(lock.holder).toBe(`doomed:${elected.term}`);
    // The dead leader's lock lapses within one lease of its death...
    expect(lock.endsAt - killedAt).toBeLessThanOrEqual(LEASE_MS + 1); // 1 ms: PTTL's rounding
    const next = await nextElection([b]);
    const afterLapse = wallClock(next.at) - lock.endsAt;
    console.info(`redis: failover after SIGKILL: the lock lapsed ${(lock.endsAt - killedAt).toFixed(0)} ms after the kill, b led ${afterLapse.toFixed(0)} ms later (lease ${LEASE_MS} ms)`);
    // ...and the standby, which retries just after the lapse, leads then, not before (1 ms: PTTL's rounding).
    expect(afterLapse).toBeGreaterThanOrEqual(-1);
    expect(afterLapse).toBeLessThan(slackMs());
    expect(next.term).toBeGreaterThan(BigInt(elected.term!));
  });

  it("steps down at the next renewal when its key was taken by someone else", async () => {
    const a = elector("a");
    await a.start();
    await nextElection([a]);
    const b = elector("b");
    await b.start();

    const demoted = nextDemotion(a);
    const takenAt = performance.now();
    await redis.set(lockKey(), "intruder");
    const { reason, at } = await demoted;
    expect(reason).toBe("lock-lost");
    expect(at - takenAt).toBeLessThan(RENEW_MS + slackMs());
    expect(a.isLeader()).toBe(false);
    // The intruder's key has no expiry: nobody may lead until it goes.
    expect((await sampleLeaders([a, b], LEASE_MS)).every((s) => s.length === 0)).toBe(true);
    await redis.del(lockKey());
    const next = await nextElection([a, b]);
    expect(next.term).toBeGreaterThan(1n);
  });

  it("steps down at the next renewal when its key was deleted, and the standby takes over", async () => {
    const a = elector("a");
    await a.start();
    const first = await nextElection([a]);
    const b = elector("b");
    await b.start();

    const demoted = nextDemotion(a);
    await redis.del(lockKey());
    const [{ reason }, next] = await Promise.all([demoted, nextElection([b])]);
    expect(reason).toBe("lock-lost");
    expect(next.term).toBeGreaterThan(first.term);
    expect(a.isLeader()).toBe(false);
    expect(await redis.get(lockKey())).toBe(`b:${next.term}`);
  });

  it("says it no longer leads once its clock passes the lease, before any renewal", async () => {
    let skewMs = 0;
    const a = elector("a", () => performance.now() + skewMs);
    await a.start();
    const { term } = await nextElection([a]);
    const fence = a.fence()!;
    const demotions: string[] = [];
    a.onDemoted(({ reason }) => demotions.push(reason));
    const b = elector("b");
    await b.start();

    skewMs = LEASE_MS; // as if the process had been stopped for a lease: no timer ran, no command went out
    expect(a.isLeader()).toBe(false);
    expect(demotions).toEqual(["lease-expired"]);
    expect(fence.stillLeader()).toBe(false);
    expect(fence.signal.aborted).toBe(true);
    expect(a.currentTerm()).toBeUndefined();
    // It also gives its lock back, so a new term need not wait for the key to expire.
    const releasedAt = performance.now();
    const next = await nextElection([a, b]);
    expect(next.at - releasedAt).toBeLessThan(RENEW_MS + slackMs());
    expect(next.term).toBeGreaterThan(term);
  });

  it("steps down before its key expires when it cannot reach Redis (a partition)", async () => {
    const proxy = await startCuttableProxy(inject("testBed").redisUrl);
    try {
      const a = new RedisLeaderElector({
        name,
        nodeId: "a",
        redisUrl: proxy.url,
        keyPrefix: redisKeyPrefix,
        pool: db.pool,
        leaseMs: LEASE_MS,
        // Wider than the default 100 ms so a loaded test machine's late timer cannot eat it.
        safetyMarginMs: 300,
        log: leaderTestLogger("a"),
      });
      electors.push(a);
      await a.start();
      const first = await nextElection([a]);
      const b = elector("b");
      await b.start();

      const demoted = nextDemotion(a);
      const cutAt = performance.now();
      proxy.cut();
      const demotion = await demoted;
      // Told on time by the deadline, while its renewal still hangs: the key is still its own, so
      // no one else can lead yet — no overlap.
      const ttl = await redis.pttl(lockKey());
      expect(demotion).toMatchObject({ term: first.term, reason: "lease-expired" });
      expect(await redis.get(lockKey())).toBe(`a:${first.term}`);
      expect(ttl).toBeGreaterThan(0);
      expect(b.isLeader()).toBe(false);
      const next = await nextElection([b]);
      console.info(
        `redis: partitioned leader stepped down after ${(demotion.at - cutAt).toFixed(0)} ms, ${ttl} ms before its key expired; ` +
          `standby led after ${(next.at - cutAt).toFixed(0)} ms`,
      );
      expect(next.at).toBeGreaterThan(demotion.at);
      expect(next.at - cutAt).toBeLessThan(LEASE_MS + RENEW_MS + lateness.maxMs());
      expect(next.term).toBeGreaterThan(first.term);
    } finally {
      await proxy.close();
    }
  });

  it("does not lead after blocking its event loop for longer than the lease", async () => {
    const a = elector("a");
    await a.start();
    const { term } = await nextElection([a]);
    const demoted = nextDemotion(a);
    busyWait(LEASE_MS + 100);
    expect(a.isLeader()).toBe(false);
    expect(await demoted).toMatchObject({ term, reason: "lease-expired" });
  });

  it("does not act as leader after being SIGSTOPped for longer than the lease", async () => {
    const node = leaderNode("sleeper");
    const elected = await node.waitFor((l) => l.event === "elected", "election");
    await node.waitFor((l) => l.event === "acted", "a duty run");
    const b = elector("b");
    await b.start();

    const stoppedAt = performance.now();
    node.signal("SIGSTOP");
    const next = await nextElection([b]);
    const failover = next.at - stoppedAt;
    console.info(`redis: failover after SIGSTOP took ${failover.toFixed(0)} ms`);
    expect(failover).toBeLessThan(LEASE_MS + RENEW_MS + lateness.maxMs());
    const bElectedWallClock = Date.now() - (performance.now() - next.at);

    node.signal("SIGCONT");
    const demotion = await node.waitFor((l) => l.event === "demoted", "demotion");
    expect(demotion).toMatchObject({ term: elected.term, reason: "lease-expired" });
    // Woken, it never ran its duty in the old term while b led: the first look at the clock ended it.
    expect(node.lines.filter((l) => l.event === "acted" && l.at >= bElectedWallClock)).toEqual([]);
    expect(b.isLeader()).toBe(true);
  });

  describe("fencing", () => {
    beforeAll(async () => {
      await db.pool.query("CREATE TABLE IF NOT EXISTS fenced_writes (term bigint NOT NULL, node text NOT NULL)");
    });
    afterEach(async () => {
      await db.pool.query("TRUNCATE fenced_writes");
    });

    async function write(fence: FenceToken): Promise<void> {
      await withFencedTransaction(db.pool, fence, (client) =>
        client.query("INSERT INTO fenced_writes (term, node) VALUES ($1, $2)", [fence.term.toString(), fence.nodeId]),
      );
    }

    async function writes(): Promise<{ term: string; node: string }[]> {
      return (await db.pool.query<{ term: string; node: string }>("SELECT term, node FROM fenced_writes ORDER BY term")).rows;
    }

    it("refuses a write of the old term after a takeover, and writes nothing", async () => {
      const a = elector("a");
      await a.start();
      const { term } = await nextElection([a]);
      const oldFence: FenceToken = { name, term, nodeId: "a" };
      await write(oldFence);

      // a loses its key without knowing yet (it learns at its next renewal); b takes over.
      const b = elector("b");
      await b.start();
      await redis.del(lockKey());
      const next = await nextElection([b]);
      expect(next.term).toBeGreaterThan(term);

      await expect(write(oldFence)).rejects.toBeInstanceOf(StaleLeader);
      await expect(
        withTransaction(db.pool, async (client) => {
          await assertTermCurrent(client, oldFence);
          await client.query("INSERT INTO fenced_writes (term, node) VALUES ($1, 'a')", [term.toString()]);
        }),
      ).rejects.toThrow(/acts in term \d+, but the published term is \d+/);
      await write(b.fence()!);
      expect(await writes()).toEqual([
        { term: term.toString(), node: "a" },
        { term: next.term.toString(), node: "b" },
      ]);
    });

    it("refuses a fence the elector already ended, without asking Postgres", async () => {
      let skewMs = 0;
      const a = elector("a", () => performance.now() + skewMs);
      await a.start();
      await nextElection([a]);
      const fence = a.fence()!;
      skewMs = LEASE_MS;
      await expect(write(fence)).rejects.toThrow(/ended on this node/);
      expect(await writes()).toEqual([]);
    });

    it("publishes a new term only after the old term's open fenced transaction ended", async () => {
      const a = elector("a");
      await a.start();
      const { term } = await nextElection([a]);
      const oldFence: FenceToken = { name, term, nodeId: "a" };

      const client = await db.pool.connect();
      let commitSentAt: number;
      try {
        await client.query("BEGIN");
        await assertTermCurrent(client, oldFence);
        await client.query("INSERT INTO fenced_writes (term, node) VALUES ($1, 'a')", [term.toString()]);

        const b = elector("b");
        await b.start();
        const demoted = nextDemotion(a);
        await redis.del(lockKey());
        await demoted;
        // b (or a again) wins the Redis key but cannot publish its term while this transaction
        // holds the row: nobody leads.
        const leaders = await sampleLeaders([a, b], 3 * RENEW_MS);
        expect(leaders.every((s) => s.length === 0)).toBe(true);
        commitSentAt = performance.now();
        await client.query("COMMIT");
      } finally {
        client.release();
      }
      const next = await nextElection(electors);
      expect(next.at).toBeGreaterThan(commitSentAt);
      expect(next.term).toBeGreaterThan(term);
      await expect(write(oldFence)).rejects.toBeInstanceOf(StaleLeader);
      expect(await writes()).toEqual([{ term: term.toString(), node: "a" }]);
    });
  });
});
