import { Redis, type RedisOptions } from "ioredis";
import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import { publishLeaderTerm } from "./leader-terms.js";
import { leaseTiming, monotonicNow, nextRenewalDelay, standbyRetryDelay, type LeaseTimingOptions, type MonotonicClock } from "./lease.js";
import { LeaseElector, type HeldTerm } from "./lease-elector.js";
import { defineLeaseCommands, leaseKeys, type LeaseCommands } from "./redis-scripts.js";

export interface RedisLeaderElectorOptions extends LeaseTimingOptions {
  /** Election name: one leader per name, e.g. `scheduler`. */
  readonly name: string;
  readonly nodeId: string;
  readonly redisUrl: string;
  /** Extra ioredis options (TLS, …); the elector sets its own timeouts and queueing on top. */
  readonly redisOptions?: RedisOptions;
  /** Prefix of the Redis keys; default `jq:leader:`. */
  readonly keyPrefix?: string;
  /** Where each term is published for fencing (the caller's pool; the elector leaves it open). */
  readonly pool: pg.Pool;
  readonly now?: MonotonicClock;
  readonly log: Logger;
}

/**
 * Leader election on one Redis key (SPEC §7): `SET NX PX` with a term counter, both in one Lua
 * script; compare-and-extend every renew interval; compare-and-delete on stop. A term is leader
 * only once published to Postgres (`jq_leader`), which is what fenced writes check.
 *
 * The elector opens its own Redis connection: renewals must not queue behind another user's
 * commands, and with the offline queue off a command fails at once while Redis is away instead
 * of being replayed late. It closes that connection on stop; the pool stays the caller's.
 */
export class RedisLeaderElector extends LeaseElector {
  readonly name: string;
  private readonly redis: Redis & LeaseCommands;
  private readonly lockKey: string;
  private readonly termKey: string;
  private readonly pool: pg.Pool;
  /** Set when Postgres refused a term as not new enough: the next acquire jumps past it. */
  private termFloor = 0n;
  private opened = false;

  constructor(options: RedisLeaderElectorOptions) {
    const timing = leaseTiming(options);
    super(options.name, options.nodeId, timing, options.now ?? monotonicNow, options.log);
    this.name = `leader-election(${options.name})`;
    ({ lockKey: this.lockKey, termKey: this.termKey } = leaseKeys(options.keyPrefix ?? "jq:leader:", options.name));
    this.pool = options.pool;
    this.redis = defineLeaseCommands(
      new Redis(options.redisUrl, {
        ...options.redisOptions,
        connectionName: `jq-leader:${options.nodeId}`,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: timing.renewIntervalMs,
        connectTimeout: Math.max(timing.renewIntervalMs, 1_000),
        retryStrategy: (attempt) => Math.min(50 * attempt, timing.renewIntervalMs),
      }),
    );
    this.redis.on("error", (err: Error) => this.log.debug({ election: this.electionName, err: err.message }, "leader Redis connection error"));
  }

  protected async open(): Promise<void> {
    try {
      await this.redis.connect();
      this.opened = true;
    } catch (err) {
      this.redis.disconnect();
      throw err;
    }
  }

  protected async tick(held: HeldTerm | undefined): Promise<number> {
    return held ? this.renew(held) : this.acquire();
  }

  private async renew(held: HeldTerm): Promise<number> {
    const sentAt = this.now();
    let extended: number;
    try {
      extended = await this.redis.renewLeaderLease(this.lockKey, held.token, this.timing.leaseMs);
    } catch (err) {
      // Not fatal yet: the deadline decides. Try again after another interval.
      this.log.warn({ election: this.electionName, err: (err as Error).message }, "leader lease renewal failed");
      return this.timing.renewIntervalMs;
    }
    if (extended !== 1) {
      this.stepDown(held, "lock-lost");
      return 0;
    }
    if (!this.extend(held, sentAt)) return 0;
    return nextRenewalDelay(held.lastSentAt, this.now(), this.timing);
  }

  private async acquire(): Promise<number> {
    const sentAt = this.now();
    const [acquired, value] = await this.redis.acquireLeaderLease(this.lockKey, this.termKey, this.nodeId, this.timing.leaseMs, this.termFloor.toString());
    if (acquired !== 1) return standbyRetryDelay(value, this.timing);
    const term = BigInt(value);
    const token = `${this.nodeId}:${term}`;
    let publish;
    try {
      const client = await this.pool.connect();
      try {
        publish = await publishLeaderTerm(client, { name: this.electionName, term, nodeId: this.nodeId }, this.timing.renewIntervalMs);
      } finally {
        client.release();
      }
    } catch (err) {
      await this.releaseToken(token);
      throw err;
    }
    if (!publish.published) {
      // Postgres has seen this term or a newer one: the counter was reset or lost (Redis restart
      // without persistence). Give the lock back and take a term above the published one.
      this.log.warn({ election: this.electionName, term: term.toString(), published: publish.currentTerm.toString() }, "term not newer than the published one; retrying above it");
      this.termFloor = publish.currentTerm;
      await this.releaseToken(token);
      return 0;
    }
    const elected = this.elect(term, token, sentAt);
    if (!elected) {
      await this.releaseToken(token);
      return this.timing.renewIntervalMs;
    }
    return nextRenewalDelay(elected.lastSentAt, this.now(), this.timing);
  }

  protected async releaseLock(held: HeldTerm): Promise<void> {
    await this.releaseToken(held.token);
  }

  /** Compare-and-delete, best effort: a lock left behind expires with its lease anyway. */
  private async releaseToken(token: string): Promise<void> {
    if (this.redis.status !== "ready") return;
    try {
      await this.redis.releaseLeaderLease(this.lockKey, token);
    } catch (err) {
      this.log.warn({ election: this.electionName, err: (err as Error).message }, "releasing the leader lock failed; it expires with its lease");
    }
  }

  protected async close(): Promise<void> {
    if (this.opened && this.redis.status === "ready") {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }
}
