import net from "node:net";
import { describe, expect, inject, it } from "vitest";
import { RedisLeaderElector } from "../../libs/leader/index.js";
import { eventually } from "../support/eventually.js";
import { leaderTestLogger, nextElection, sampleLeaders } from "../support/leader-watch.js";
import { redisKeyPrefix } from "../support/redis.js";
import { LEASE_MS, RENEW_MS, useRedisElection } from "../support/redis-election.js";

// The Redis elector's own connection and keys (libs/leader/redis-elector.ts): it fails to start
// without Redis and then stops trying, it reconnects when Redis drops it while it runs, and it
// gives its key back when a term it took does not become leader.
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

  it("keeps its keys under jq:leader: by default", async () => {
    const a = new RedisLeaderElector({ name: bed.name, nodeId: "a", redisUrl: inject("testBed").redisUrl, pool: bed.db.pool, leaseMs: LEASE_MS, log: leaderTestLogger("a") });
    electors.push(a);
    try {
      await a.start();
      const { term } = await nextElection([a]);
      expect(await bed.redis.get(`jq:leader:{${bed.name}}`)).toBe(`a:${term}`);
      expect(await bed.redis.get(`jq:leader:{${bed.name}}:term`)).toBe(term.toString());
    } finally {
      await a.stop();
      await bed.redis.del(`jq:leader:{${bed.name}}`, `jq:leader:{${bed.name}}:term`);
    }
  });

  /** Holds the election's jq_leader row FOR UPDATE, so a publish waits (at most its lock timeout, a renew interval). */
  async function holdRow(): Promise<{ waiting(): Promise<boolean>; release(): Promise<void> }> {
    // Term 1 published; the Redis counter is past it, so the next term (2) is newer.
    await bed.db.pool.query("INSERT INTO jq_leader (name, term, node_id, elected_at) VALUES ($1, 1, 'old', now())", [bed.name]);
    await bed.redis.set(`${lockKey()}:term`, "1");
    const holder = await bed.db.pool.connect();
    await holder.query("BEGIN");
    await holder.query("SELECT 1 FROM jq_leader WHERE name = $1 FOR UPDATE", [bed.name]);
    const holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    return {
      async waiting() {
        const { rows } = await bed.db.pool.query("SELECT 1 FROM pg_locks WHERE NOT granted AND $1 = ANY(pg_blocking_pids(pid))", [holderPid]);
        return rows.length > 0;
      },
      async release() {
        try {
          await holder.query("COMMIT");
        } finally {
          holder.release();
        }
      },
    };
  }

  it("gives its key back when it cannot publish its term", async () => {
    const row = await holdRow();
    const a = elector("a");
    try {
      const started = a.start();
      await eventually("a's publish to wait for the row", () => row.waiting(), 5_000, 5);
      await started; // the publish gave up after its lock timeout; the round failed
      expect(a.isLeader()).toBe(false);
      expect(await bed.redis.exists(lockKey())).toBe(0);
    } finally {
      await row.release();
    }
  });

  it("gives its key back when stopped while publishing its term", async () => {
    const row = await holdRow();
    const a = elector("a");
    const started = a.start();
    await eventually("a's publish to wait for the row", () => row.waiting(), 5_000, 5);
    const stopped = a.stop();
    await row.release(); // the publish goes through, but the elector is stopping: no term
    await started;
    await stopped;
    expect(a.isLeader()).toBe(false);
    expect(await bed.redis.exists(lockKey())).toBe(0);
  });
});
