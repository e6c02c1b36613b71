import net from "node:net";
import { describe, expect, it } from "vitest";
import { RedisLeaderElector } from "../../libs/leader/index.js";
import { eventually } from "../support/eventually.js";
import { leaderTestLogger, nextElection, sampleLeaders } from "../support/leader-watch.js";
import { redisKeyPrefix } from "../support/redis.js";
import { LEASE_MS, RENEW_MS, useRedisElection } from "../support/redis-election.js";

// The Redis elector's own connection (libs/leader/redis-elector.ts): it fails to start without
// Redis and then stops trying, and it reconnects when Redis drops it while it runs.
describe("redis leader election: the elector's connection", () => {
  const bed = useRedisElection();
  const { electors, elector, lockKey } = bed;

  /** CLIENT LIST ids of the connections named jq-leader:<nodeId>. */
  async function connectionsOf(nodeId: string): Promise<string[]> {
    const list = (await bed.redis.client("LIST")) as string;
    return list
      .split("\n")
      .filter((line) => line.includes(` name=jq-leader:${nodeId} `))
      .map((line) => /^id=(\d+)/.exec(line)![1]!);
  }

  it("is named after its election", () => {
    expect(elector("a").name).toBe(`leader-election(${bed.name})`);
  });

  it("fails to start while Redis is unreachable, and then stops trying to connect", async () => {
    // A server that hangs up on every connection, counting them.
    let attempts = 0;
    const server = net.createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const a = new RedisLeaderElector({
        name: bed.name,
        nodeId: "a",
        redisUrl: `redis://127.0.0.1:${port}`,
        keyPrefix: redisKeyPrefix,
        pool: bed.db.pool,
        leaseMs: LEASE_MS,
        log: leaderTestLogger("a"),
      });
      electors.push(a);
      await expect(a.start()).rejects.toThrow();
      expect(a.isLeader()).toBe(false);
      const after = attempts;
      expect(after).toBeGreaterThanOrEqual(1);
      // Reconnecting would try again within 50 ms, then every few renew intervals at most.
      await sampleLeaders([a], 3 * RENEW_MS);
      expect(attempts).toBe(after);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("reconnects when Redis drops its connection, and keeps leading", async () => {
    // A node id no other election test file uses: CLIENT LIST shows every file's connections.
    const nodeId = `reconnector-${bed.name}`;
    const a = elector(nodeId);
    await a.start();
    const first = await nextElection([a]);
    const [id] = await connectionsOf(nodeId);
    expect(id).toBeDefined();
    await bed.redis.client("KILL", "ID", id!);
    await eventually("a new connection of the elector", async () => (await connectionsOf(nodeId)).some((c) => c !== id), 5_000, 10);
    // Leading again (the same term if no renewal was missed, a newer one otherwise) and renewing.
    await eventually("a to lead", () => a.isLeader(), 5_000, 10);
    const held = a.currentTerm()!;
    expect(held).toBeGreaterThanOrEqual(first.term);
    const samples = await sampleLeaders([a], 2 * LEASE_MS);
    expect(samples.every((s) => s.length === 1)).toBe(true);
    expect(await bed.redis.get(lockKey())).toBe(`${nodeId}:${a.currentTerm()}`);
  });
});
