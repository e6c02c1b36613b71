import { describe, expect, it } from "vitest";
import { backoffDelayMs, type BackoffPolicy } from "./backoff.js";

describe("backoffDelayMs: min(base·2^n, max) + jitter", () => {
  it("refuses a negative or fractional attempt, whatever the jitter", () => {
    for (const jitter of ["up-to-base", "equal", "none"] as const) {
      expect(() => backoffDelayMs(-1, { baseMs: 100, maxMs: 5_000, jitter })).toThrow(RangeError);
      expect(() => backoffDelayMs(1.5, { baseMs: 100, maxMs: 5_000, jitter })).toThrow(RangeError);
    }
  });
});

describe("job retries (SPEC §3): jitter in [0, base)", () => {
  const policy: BackoffPolicy = { baseMs: 1000, maxMs: 60_000, jitter: "up-to-base" };
  it("doubles from the base with no jitter", () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 32000]);
  });
  it("caps the exponential part at max, also for huge retry counts", () => {
    expect(backoffDelayMs(6, policy, () => 0)).toBe(60_000);
    expect(backoffDelayMs(10_000, policy, () => 0)).toBe(60_000);
  });
  it("adds jitter in [0, base)", () => {
    expect(backoffDelayMs(0, policy, () => 0.5)).toBe(1500);
    expect(backoffDelayMs(0, policy, () => 0.999999)).toBe(1999);
    expect(backoffDelayMs(10, policy, () => 0.999999)).toBe(60_999);
  });
  it("stays within bounds for random jitter", () => {
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelayMs(2, policy);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThan(5000);
    }
  });
});

describe("equal jitter (SDK reconnects, client retries): half fixed, half random", () => {
  const policy: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: "equal" };
  it("doubles from the base up to the cap, with half of it jittered", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([50, 100, 200, 400, 800, 1600, 2500]);
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, () => 0.999999))).toEqual([100, 200, 400, 800, 1600, 3200, 5000]);
  });
  it("stays at the cap for long outages and is never zero", () => {
    expect(backoffDelayMs(10_000, policy, () => 0.5)).toBe(3750);
    expect(backoffDelayMs(0, { baseMs: 1, maxMs: 1, jitter: "equal" }, () => 0)).toBeGreaterThan(0);
  });
  it("is the client's retry delay: 100 ms doubling to 2 s, times [0.5, 1)", () => {
    const client: BackoffPolicy = { baseMs: 100, maxMs: 2_000, jitter: "equal" };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, client, () => 0))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, client, () => 0.5))).toEqual([150, 300, 600, 1200, 1500]);
  });
});

describe("no jitter (outbox relay, LISTEN reconnects, jqctl watch)", () => {
  it("doubles from the base and stops at max", () => {
    const policy: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: "none" };
    // The relay asks with the failures before this one: 0 after the first failed round.
    expect([1, 2, 3, 4, 5, 6, 7, 1_000].map((n) => backoffDelayMs(n - 1, policy))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });
  it("never calls the random source", () => {
    expect(backoffDelayMs(3, { baseMs: 200, maxMs: 6_400, jitter: "none" }, () => { throw new Error("random called"); })).toBe(1_600);
  });
});

describe("refusals", () => {
  it("names the attempt count it refused", () => {
    expect(() => backoffDelayMs(-1, { baseMs: 1, maxMs: 2, jitter: "none" })).toThrow("attempt must be a non-negative integer, got -1");
    expect(() => backoffDelayMs(1.5, { baseMs: 1, maxMs: 2, jitter: "none" })).toThrow("attempt must be a non-negative integer, got 1.5");
  });
});
