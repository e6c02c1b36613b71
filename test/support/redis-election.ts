import type { Redis } from "ioredis";
import { afterAll, beforeAll, inject } from "vitest";
import { RedisLeaderElector } from "../../libs/leader/index.js";
import { leaderTestLogger } from "./leader-watch.js";
import { createRedisClient, deleteKeysWithPrefix, redisKeyPrefix } from "./redis.js";
import { LEASE_MS } from "./election-timing.js";
import { extendBed, useElectionBed, type ElectionBed } from "./election-bed.js";

// Leader election on Redis (SPEC §7) against the bed's Redis and a fresh Postgres database for
// the published terms.
export { LEASE_MS, RENEW_MS } from "./election-timing.js";

export interface RedisElectionBed extends ElectionBed<RedisLeaderElector> {
  /** A plain client of the bed's Redis, to look at and tamper with the election's keys. */
  readonly redis: Redis;
  /** The Redis key of this test's lock. */
  lockKey(): string;
}

/** useElectionBed on Redis, plus a Redis client for the file. */
export function useRedisElection(): RedisElectionBed {
  let redis: Redis;
  beforeAll(async () => {
    redis = await createRedisClient();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(redis);
    await redis.quit();
  });
  const bed = useElectionBed<RedisLeaderElector>({
    create: (db, name, nodeId, now) =>
      new RedisLeaderElector({
        name,
        nodeId,
        redisUrl: inject("testBed").redisUrl,
        keyPrefix: redisKeyPrefix,
        pool: db.pool,
        leaseMs: LEASE_MS,
        now,
        log: leaderTestLogger(nodeId),
      }),
    node: (db, name, nodeId) => ({
      kind: "redis",
      name,
      nodeId,
      leaseMs: LEASE_MS,
      databaseUrl: db.url,
      redisUrl: inject("testBed").redisUrl,
      keyPrefix: redisKeyPrefix,
    }),
  });
  return extendBed(bed, {
    get redis() {
      return redis;
    },
    lockKey: () => `${redisKeyPrefix}{${bed.name}}`,
  });
}
