import type { RedisOptions } from "ioredis";
import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import type { LeaderElector } from "./leader-elector.js";
import type { LeaseTimingOptions, MonotonicClock } from "./lease.js";
import { PostgresLeaderElector } from "./postgres-elector.js";
import { RedisLeaderElector } from "./redis-elector.js";

export interface LeaderElectorOptions extends LeaseTimingOptions {
  readonly name: string;
  readonly nodeId: string;
  /** Redis when configured (SPEC §7)… */
  readonly redis?: { readonly url: string; readonly options?: RedisOptions; readonly keyPrefix?: string } | undefined;
  /** …else a Postgres advisory lock on a session of its own (SPEC §10). */
  readonly databaseUrl: string;
  /** Where the Redis elector publishes terms; left open. */
  readonly pool: pg.Pool;
  readonly now?: MonotonicClock;
  readonly log: Logger;
}

/** The Redis elector when Redis is configured, else the Postgres advisory-lock fallback. */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const { redis, ...common } = options;
  if (redis) {
    return new RedisLeaderElector({ ...common, redisUrl: redis.url, redisOptions: redis.options, keyPrefix: redis.keyPrefix });
  }
  return new PostgresLeaderElector(common);
}
