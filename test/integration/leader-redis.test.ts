import { describe, expect, it } from "vitest";
import { publishedLeaderTerm } from "../../libs/leader/index.js";
import { nextDemotion, nextElection, sampleLeaders } from "../support/leader-watch.js";
import { LEASE_MS, RENEW_MS, useRedisElection } from "../support/redis-election.js";

// Leader election on Redis (SPEC §7), the normal course: one leader, clean handovers and term
// numbers. Failures are in leader-redis-failover.test.ts, fencing in leader-redis-fencing.test.ts.
describe("redis leader election", () => {
  const bed = useRedisElection();
  const { elector, lockKey } = bed;

  it("lets exactly one of two electors lead, holding `node:term` in Redis and Postgres", async () => {
    const a = elector("a");
    const b = elector("b");
    await Promise.all([a.start(), b.start()]);
    const { elector: leader, term } = await nextElection([a, b]);

    const samples = await sampleLeaders([a, b], 3 * LEASE_MS);
    expect(new Set(samples.map((s) => s.join(",")))).toEqual(new Set([leader.nodeId]));
    expect(leader.currentTerm()).toBe(term);
    expect(await bed.redis.get(lockKey())).toBe(`${leader.nodeId}:${term}`);
    expect(await publishedLeaderTerm(bed.db.pool, bed.name)).toEqual({ name: bed.name, term, nodeId: leader.nodeId });
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
    expect(handover).toBeLessThan(RENEW_MS + bed.slackMs());
    expect(next.term).toBeGreaterThan(first.term);
    expect(await bed.redis.exists(lockKey())).toBe(1);
  });

  it("deletes its key and closes its connection on stop, and leaves a key it does not hold", async () => {
    // A node id no other election test file uses: they run at the same time against one Redis,
    // and CLIENT LIST shows every file's connections.
    const a = elector("stopper");
    await a.start();
    const { term } = await nextElection([a]);
    expect(await bed.redis.client("LIST")).toContain("name=jq-leader:stopper ");
    await a.stop();
    await a.stop();
    expect(await bed.redis.exists(lockKey())).toBe(0);
    expect(await bed.redis.client("LIST")).not.toContain("name=jq-leader:stopper ");
    expect(await bed.redis.get(`${lockKey()}:term`)).toBe(term.toString());

    // A stopping node that no longer holds the key must not delete its successor's.
    let skewMs = 0;
    const c = elector("c", () => performance.now() + skewMs);
    await c.start();
    await nextElection([c]);
    await bed.redis.set(lockKey(), "successor:99", "PX", LEASE_MS);
    skewMs = LEASE_MS; // c's lease lapses: it releases by compare-and-delete, which must miss
    expect(c.isLeader()).toBe(false);
    await c.stop();
    expect(await bed.redis.get(lockKey())).toBe("successor:99");
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
    await bed.redis.del(`${lockKey()}:term`); // as after a Redis restart without persistence
    const b = elector("b");
    await b.start();
    const next = await nextElection([b]);
    expect(next.term).toBe(4n);
    expect(await publishedLeaderTerm(bed.db.pool, bed.name)).toEqual({ name: bed.name, term: next.term, nodeId: "b" });
    expect(await bed.redis.get(lockKey())).toBe(`b:${next.term}`);
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
    expect((await publishedLeaderTerm(bed.db.pool, bed.name))?.term).toBe(terms.at(-1));
  });
});
