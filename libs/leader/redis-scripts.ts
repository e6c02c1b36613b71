import type { Redis } from "ioredis";

/**
 * The Redis side of the lease (SPEC §7), one Lua script per operation so each is atomic.
 * KEYS[1] is the lock, KEYS[2] the term counter; both carry the same hash tag, so they live in
 * one slot of a Redis Cluster.
 */

/**
 * Acquire: when the lock is free, take the next term and set the lock to `<node>:<term>` for the
 * lease, in one step, so a term number is never handed out without the lock or the other way
 * round. ARGV: node id, lease ms, term floor (the newest term Postgres has seen, in case the
 * counter was lost; 0 normally). Returns {1, term} or {0, pttl of the holder's lock}.
 */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('PTTL', KEYS[1])}
end
local term = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if term <= floor then
  term = redis.call('INCRBY', KEYS[2], floor + 1 - term)
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. term, 'NX', 'PX', ARGV[2])
return {1, term}
`;

/** Renew: compare-and-extend. ARGV: token, lease ms. Returns 1 when extended, 0 when not ours. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/** Release: compare-and-delete. ARGV: token. Returns 1 when deleted, 0 when not ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

export interface LeaseCommands {
  acquireLeaderLease(lockKey: string, termKey: string, nodeId: string, leaseMs: number, termFloor: string): Promise<[number, number]>;
  renewLeaderLease(lockKey: string, token: string, leaseMs: number): Promise<number>;
  releaseLeaderLease(lockKey: string, token: string): Promise<number>;
}

/** Registers the scripts on a client (EVALSHA, loaded on first use). */
export function defineLeaseCommands(redis: Redis): Redis & LeaseCommands {
  redis.defineCommand("acquireLeaderLease", { numberOfKeys: 2, lua: ACQUIRE });
  redis.defineCommand("renewLeaderLease", { numberOfKeys: 1, lua: RENEW });
  redis.defineCommand("releaseLeaderLease", { numberOfKeys: 1, lua: RELEASE });
  return redis as Redis & LeaseCommands;
}

/** `<prefix>{<name>}` and `<prefix>{<name>}:term`. */
export function leaseKeys(prefix: string, name: string): { lockKey: string; termKey: string } {
  const lockKey = `${prefix}{${name}}`;
  return { lockKey, termKey: `${lockKey}:term` };
}
