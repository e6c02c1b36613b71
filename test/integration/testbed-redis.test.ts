import type { Redis } from "ioredis";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient, deleteKeysWithPrefix, testKey } from "../support/redis.js";

// The bed's Redis answers the commands jq's locks are built on: SET NX PX, GET, PTTL, expiry.
describe("test bed redis", () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await createRedisClient();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(redis);
    await redis.quit();
  });

  it("sets a key only when absent, with a TTL", async () => {
    const key = testKey("lock");
    expect(await redis.set(key, "owner-1", "PX", 1000, "NX")).toBe("OK");
    expect(await redis.set(key, "owner-2", "PX", 1000, "NX")).toBeNull();
    expect(await redis.get(key)).toBe("owner-1");
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
  });

  it("forgets the key once it expires", async () => {
    const key = testKey("short-lived");
    expect(await redis.set(key, "v", "PX", 50, "NX")).toBe("OK");
    await sleep(120);
    expect(await redis.get(key)).toBeNull();
    expect(await redis.pttl(key)).toBe(-2);
    expect(await redis.set(key, "again", "PX", 50, "NX")).toBe("OK");
  });
});
