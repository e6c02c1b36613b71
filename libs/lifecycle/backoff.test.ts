import { describe, expect, it } from "vitest";
import { retryDelayMs, retryNotBefore } from "./backoff.js";

const policy = { baseMs: 1000, maxMs: 60_000 };

describe("retry backoff: min(base·2^retry_count, max) + jitter(0..base)", () => {
  it("doubles from the base with no jitter", () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => retryDelayMs(n, policy, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 32000]);
  });
  it("caps the exponential part at max, also for huge retry counts", () => {
    expect(retryDelayMs(6, policy, () => 0)).toBe(60_000);
    expect(retryDelayMs(10_000, policy, () => 0)).toBe(60_000);
  });
  it("adds jitter in [0, base)", () => {
    expect(retryDelayMs(0, policy, () => 0.5)).toBe(1500);
    expect(retryDelayMs(0, policy, () => 0.999999)).toBe(1999);
    expect(retryDelayMs(10, policy, () => 0.999999)).toBe(60_999);
  });
  it("stays within bounds for random jitter", () => {
    for (let i = 0; i < 1000; i++) {
      const d = retryDelayMs(2, policy);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThan(5000);
    }
  });
  it("refuses a negative or fractional retry count", () => {
    expect(() => retryDelayMs(-1, policy)).toThrow(RangeError);
    expect(() => retryDelayMs(1.5, policy)).toThrow(RangeError);
  });
  it("computes not_before from an injected now", () => {
    const now = new Date("2026-01-01T00:00:00.000Z");
    expect(retryNotBefore(now, 1, policy, () => 0).toISOString()).toBe("2026-01-01T00:00:02.000Z");
  });
});
