import { describe, expect, it } from "vitest";
import { SnapshotCache } from "./snapshot-cache.js";

describe("SnapshotCache", () => {
  it("computes once per interval and shares a computation in flight", async () => {
    let clock = 0;
    let computed = 0;
    const cache = new SnapshotCache(async () => ++computed, 1_000, () => clock);
    expect(await Promise.all([cache.get(), cache.get(), cache.get()])).toEqual([1, 1, 1]);
    clock = 999;
    expect(await cache.get()).toBe(1);
    clock = 1_000;
    expect(await cache.get()).toBe(2);
  });

  it("does not keep a failure: the next call computes again", async () => {
    let fail = true;
    const cache = new SnapshotCache(async () => {
      if (fail) throw new Error("down");
      return "up";
    }, 1_000, () => 0);
    await expect(cache.get()).rejects.toThrow("down");
    fail = false;
    expect(await cache.get()).toBe("up");
  });
});
