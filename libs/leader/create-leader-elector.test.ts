import { Writable } from "node:stream";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../logging/logger.js";
import { createLeaderElector } from "./create-leader-elector.js";
import { PostgresLeaderElector } from "./postgres-elector.js";
import { RedisLeaderElector } from "./redis-elector.js";

// Which elector the scheduler gets (SPEC §7, §10). Constructing one opens nothing (Redis connects
// lazily, Postgres on start), so no server is needed to tell them apart.
const log = createLogger({ app: "elector-choice-test", nodeId: "t", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });
const pool = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
const common = { name: "scheduler", nodeId: "n1", leaseMs: 900, databaseUrl: "postgres://nobody@127.0.0.1:1/none", pool, log };

describe("createLeaderElector", () => {
  const made: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((e) => e.stop()));
  });

  it("elects on Redis when Redis is configured, with its URL, options and key prefix", () => {
    const e = createLeaderElector({ ...common, redis: { url: "redis://127.0.0.1:1", keyPrefix: "x:", options: { db: 3 } } });
    made.push(e);
    expect(e).toBeInstanceOf(RedisLeaderElector);
    expect(e.name).toBe("leader-election(scheduler)");
    const redis = (e as unknown as { redis: { options: { host: string; port: number; db: number } }; lockKey: string }).redis;
    expect(redis.options).toMatchObject({ host: "127.0.0.1", port: 1, db: 3 });
    expect((e as unknown as { lockKey: string }).lockKey).toBe("x:{scheduler}");
  });

  it("falls back to a Postgres advisory lock without Redis", () => {
    const e = createLeaderElector({ ...common, redis: undefined });
    made.push(e);
    expect(e).toBeInstanceOf(PostgresLeaderElector);
    expect(e.name).toBe("leader-election(scheduler)");
  });

  it("keys the Redis lock under jq:leader: unless told otherwise", () => {
    const e = new RedisLeaderElector({ ...common, redisUrl: "redis://127.0.0.1:1" });
    made.push(e);
    expect((e as unknown as { lockKey: string }).lockKey).toBe("jq:leader:{scheduler}");
  });
});
