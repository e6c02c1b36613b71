import { describe, expect, inject, it } from "vitest";
import { RedisLeaderElector } from "../../libs/leader/index.js";
import { startCuttableProxy } from "../support/leader-proxy.js";
import { eventually } from "../support/eventually.js";
import { busyWait, leaderTestLogger, nextDemotion, nextElection, redisLock, sampleLeaders, wallClock } from "../support/leader-watch.js";
import { redisKeyPrefix } from "../support/redis.js";
import { LEASE_MS, RENEW_MS, useRedisElection } from "../support/redis-election.js";

// Leader election on Redis (SPEC §7) when things go wrong: a killed or stopped leader, a lost or
// stolen key, a partition, a stalled clock or event loop. Each ends with at most one leader.
describe("redis leader election: failover and stepping down", () => {
  const bed = useRedisElection();
  const { electors, elector, leaderNode, lockKey } = bed;

  it("replaces a killed leader (SIGKILL, no release) within one lease", async () => {
    const node = leaderNode("doomed");
    const elected = await node.waitFor((l) => l.event === "elected", "election");
    const b = elector("b");
    await b.start();
    expect(b.isLeader()).toBe(false);

    // After a renewal, so the lock's life is the renewal's (PEXPIRE), not the acquisition's.
    const acquiredTtl = await bed.redis.pttl(lockKey());
    await eventually("the leader's first renewal", async () => (await bed.redis.pttl(lockKey())) > acquiredTtl, 10_000, 5);
    node.signal("SIGKILL");
    await node.exited();
    const killedAt = Date.now(); // at or after the death, so at or after its last renewal
    const lock = await redisLock(bed.redis, lockKey());
    expect(lock.holder).toBe(`doomed:${elected.term}`);
    // The dead leader's lock lapses within one lease of its death...
    expect(lock.endsAt - killedAt).toBeLessThanOrEqual(LEASE_MS + 1); // 1 ms: PTTL's rounding
    const next = await nextElection([b]);
    const afterLapse = wallClock(next.at) - lock.endsAt;
    console.info(`redis: failover after SIGKILL: the lock lapsed ${(lock.endsAt - killedAt).toFixed(0)} ms after the kill, b led ${afterLapse.toFixed(0)} ms later (lease ${LEASE_MS} ms)`);
    // ...and the standby, which retries just after the lapse, leads then, not before (1 ms: PTTL's rounding).
    expect(afterLapse).toBeGreaterThanOrEqual(-1);
    expect(afterLapse).toBeLessThan(bed.slackMs());
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
    await bed.redis.set(lockKey(), "intruder");
    const { reason, at } = await demoted;
    expect(reason).toBe("lock-lost");
    expect(at - takenAt).toBeLessThan(RENEW_MS + bed.slackMs());
    expect(a.isLeader()).toBe(false);
    // The intruder's key has no expiry: nobody may lead until it goes.
    expect((await sampleLeaders([a, b], LEASE_MS)).every((s) => s.length === 0)).toBe(true);
    await bed.redis.del(lockKey());
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
    await bed.redis.del(lockKey());
    const [{ reason }, next] = await Promise.all([demoted, nextElection([b])]);
    expect(reason).toBe("lock-lost");
    expect(next.term).toBeGreaterThan(first.term);
    expect(a.isLeader()).toBe(false);
    expect(await bed.redis.get(lockKey())).toBe(`b:${next.term}`);
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
    expect(next.at - releasedAt).toBeLessThan(RENEW_MS + bed.slackMs());
    expect(next.term).toBeGreaterThan(term);
  });

  it("steps down before its key expires when it cannot reach Redis (a partition)", async () => {
    const proxy = await startCuttableProxy(inject("testBed").redisUrl);
    try {
      const a = new RedisLeaderElector({
        name: bed.name,
        nodeId: "a",
        redisUrl: proxy.url,
        keyPrefix: redisKeyPrefix,
        pool: bed.db.pool,
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
      const ttl = await bed.redis.pttl(lockKey());
      expect(demotion).toMatchObject({ term: first.term, reason: "lease-expired" });
      expect(await bed.redis.get(lockKey())).toBe(`a:${first.term}`);
      expect(ttl).toBeGreaterThan(0);
      expect(b.isLeader()).toBe(false);
      const next = await nextElection([b]);
      console.info(
        `redis: partitioned leader stepped down after ${(demotion.at - cutAt).toFixed(0)} ms, ${ttl} ms before its key expired; ` +
          `standby led after ${(next.at - cutAt).toFixed(0)} ms`,
      );
      expect(next.at).toBeGreaterThan(demotion.at);
      expect(next.at - cutAt).toBeLessThan(LEASE_MS + RENEW_MS + bed.lateness.maxMs());
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
    expect(failover).toBeLessThan(LEASE_MS + RENEW_MS + bed.lateness.maxMs());
    const bElectedWallClock = Date.now() - (performance.now() - next.at);

    node.signal("SIGCONT");
    const demotion = await node.waitFor((l) => l.event === "demoted", "demotion");
    expect(demotion).toMatchObject({ term: elected.term, reason: "lease-expired" });
    // Woken, it never ran its duty in the old term while b led: the first look at the clock ended it.
    expect(node.lines.filter((l) => l.event === "acted" && l.at >= bElectedWallClock)).toEqual([]);
    expect(b.isLeader()).toBe(true);
  });
});
