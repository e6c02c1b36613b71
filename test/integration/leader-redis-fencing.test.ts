import { describe, afterEach, beforeAll, expect, it } from "vitest";
import { assertTermCurrent, StaleLeader, withFencedTransaction, type FenceToken } from "../../libs/leader/index.js";
import { withTransaction } from "../../libs/postgres/db.js";
import { nextDemotion, nextElection, sampleLeaders } from "../support/leader-watch.js";
import { LEASE_MS, RENEW_MS, useRedisElection } from "../support/redis-election.js";

// Fenced writes under Redis leader election (SPEC §7): a term that lost the lock cannot write.
describe("redis leader election", () => {
  const bed = useRedisElection();
  const { electors, elector, lockKey } = bed;

  describe("fencing", () => {
    beforeAll(async () => {
      await bed.db.pool.query("CREATE TABLE IF NOT EXISTS fenced_writes (term bigint NOT NULL, node text NOT NULL)");
    });
    afterEach(async () => {
      await bed.db.pool.query("TRUNCATE fenced_writes");
    });

    async function write(fence: FenceToken): Promise<void> {
      await withFencedTransaction(bed.db.pool, fence, (client) =>
        client.query("INSERT INTO fenced_writes (term, node) VALUES ($1, $2)", [fence.term.toString(), fence.nodeId]),
      );
    }

    async function writes(): Promise<{ term: string; node: string }[]> {
      return (await bed.db.pool.query<{ term: string; node: string }>("SELECT term, node FROM fenced_writes ORDER BY term")).rows;
    }

    it("refuses a write of the old term after a takeover, and writes nothing", async () => {
      const a = elector("a");
      await a.start();
      const { term } = await nextElection([a]);
      const oldFence: FenceToken = { name: bed.name, term, nodeId: "a" };
      await write(oldFence);

      // a loses its key without knowing yet (it learns at its next renewal); b takes over.
      const b = elector("b");
      await b.start();
      await bed.redis.del(lockKey());
      const next = await nextElection([b]);
      expect(next.term).toBeGreaterThan(term);

      await expect(write(oldFence)).rejects.toBeInstanceOf(StaleLeader);
      await expect(
        withTransaction(bed.db.pool, async (client) => {
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
      const oldFence: FenceToken = { name: bed.name, term, nodeId: "a" };

      const client = await bed.db.pool.connect();
      let commitSentAt: number;
      try {
        await client.query("BEGIN");
        await assertTermCurrent(client, oldFence);
        await client.query("INSERT INTO fenced_writes (term, node) VALUES ($1, 'a')", [term.toString()]);

        const b = elector("b");
        await b.start();
        const demoted = nextDemotion(a);
        await bed.redis.del(lockKey());
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
