import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, inject } from "vitest";
import { RedisLeaderElector, type MonotonicClock } from "../../libs/leader/index.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { startLeaderNode, type LeaderNodeProcess } from "./leader-process.js";
import { leaderTestLogger } from "./leader-watch.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { createRedisClient, deleteKeysWithPrefix, redisKeyPrefix } from "./redis.js";
import { electionSlackMs, LEASE_MS } from "./election-timing.js";
import { timerLateness, type TimerLateness } from "./timer-lateness.js";
import { uniqueTestName } from "./unique-name.js";

// Leader election on Redis (SPEC §7) against the bed's Redis and a fresh Postgres database for
// the published terms. Each test runs its own election (a fresh name, so fresh keys and row).
export { LEASE_MS, RENEW_MS } from "./election-timing.js";

export interface RedisElectionBed {
  readonly db: TestDatabase;
  /** A plain client of the bed's Redis, to look at and tamper with the election's keys. */
  readonly redis: Redis;
  /** This test's election name. */
  readonly name: string;
  /** Every elector of this test; stopped after it. */
  readonly electors: RedisLeaderElector[];
  /** How late this process's timers (so its electors') ran during this test: a loaded machine's delay, measured. */
  readonly lateness: TimerLateness;
  /** electionSlackMs: round trips plus the measured lateness: the slack a time bound of this test may add. */
  slackMs(): number;
  /** The Redis key of this test's lock. */
  lockKey(): string;
  /** An elector in this process (stopped after the test), optionally on an injected clock. */
  elector(nodeId: string, now?: MonotonicClock): RedisLeaderElector;
  /** An elector in a child process that acts while it leads (killed after the test). */
  leaderNode(nodeId: string): LeaderNodeProcess;
}

/**
 * The set-up every Redis election test file shares, registered as hooks of the calling describe:
 * a migrated database and a Redis client for the file, a fresh election name per test, and every
 * elector and child process of a test stopped after it.
 */
export function useRedisElection(): RedisElectionBed {
  let db: TestDatabase;
  let redis: Redis;
  let name: string;
  const electors: RedisLeaderElector[] = [];
  const nodes: LeaderNodeProcess[] = [];
  const lateness = timerLateness();

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
    redis = await createRedisClient();
  });
  beforeEach(() => {
    name = uniqueTestName("election");
    lateness.reset();
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

  return {
    get db() {
      return db;
    },
    get redis() {
      return redis;
    },
    get name() {
      return name;
    },
    electors,
    lateness,
    slackMs: () => electionSlackMs(lateness),
    lockKey: () => `${redisKeyPrefix}{${name}}`,
    elector(nodeId, now) {
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
    },
    leaderNode(nodeId) {
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
    },
  };
}
