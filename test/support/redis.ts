import { Redis, type RedisOptions } from "ioredis";
import { inject } from "vitest";
import { uniqueTestName } from "./unique-name.js";

// Redis clients on the test bed's server. Test files share that server (and its single
// keyspace), so each keeps its keys under its own prefix: `redisKeyPrefix` is fixed for the test
// file (vitest loads this module once per file) and `uniqueKeyPrefix()` gives a fresh one per
// test when a test needs an empty namespace.

/** `jq_t_<random>:`, the same for every test of this file. */
export const redisKeyPrefix = `${uniqueTestName()}:`;

export function uniqueKeyPrefix(base?: string): string {
  return `${uniqueTestName(base)}:`;
}

/** A key under this file's prefix. */
export function testKey(name: string): string {
  return `${redisKeyPrefix}${name}`;
}

/**
 * A connected client. Close it with `quit()` in afterAll. Commands fail after one retry instead
 * of queueing for long, so a lost server shows up as an error rather than a test timeout.
 */
export async function createRedisClient(options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(inject("testBed").redisUrl, {
    connectionName: "jq-test",
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    ...options,
  });
  await client.connect();
  return client;
}

/** Deletes every key under `prefix` (this file's by default), e.g. between tests. */
export async function deleteKeysWithPrefix(client: Redis, prefix = redisKeyPrefix): Promise<number> {
  let deleted = 0;
  for await (const keys of client.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) deleted += await client.unlink(...keys);
  }
  return deleted;
}
