import { describe, expect, it } from "vitest";
import { leaseTiming, monotonicNow, standbyRetryDelay } from "./lease.js";

// The edges of the lease arithmetic (libs/leader/lease.ts): the smallest lease, margins and
// periods at their limits, and the refusal texts. Written for
// the surviving mutants listed in docs/testing.md, "Mutation testing".

describe("lease bounds", () => {
  it("takes the smallest lease and the limits of margin and period", () => {
    expect(leaseTiming({ leaseMs: 30 })).toEqual({ leaseMs: 30, renewIntervalMs: 10, safetyMarginMs: 3 });
    expect(leaseTiming({ leaseMs: 100, safetyMarginMs: 0, renewIntervalMs: 99 })).toEqual({ leaseMs: 100, renewIntervalMs: 99, safetyMarginMs: 0 });
    expect(leaseTiming({ leaseMs: 100, safetyMarginMs: 98, renewIntervalMs: 1 }).safetyMarginMs).toBe(98);
    expect(Object.isFrozen(leaseTiming({ leaseMs: 30 }))).toBe(true);
  });

  it("refuses each bad setting with a message naming it", () => {
    expect(() => leaseTiming({ leaseMs: 29 })).toThrow("leaseMs must be an integer ≥ 30, got 29");
    expect(() => leaseTiming({ leaseMs: 30.5 })).toThrow("leaseMs must be an integer ≥ 30, got 30.5");
    expect(() => leaseTiming({ leaseMs: 100, safetyMarginMs: -1 })).toThrow("safetyMarginMs must be in [0, leaseMs), got -1");
    expect(() => leaseTiming({ leaseMs: 100, safetyMarginMs: 100 })).toThrow("safetyMarginMs must be in [0, leaseMs), got 100");
    expect(() => leaseTiming({ leaseMs: 100, safetyMarginMs: 10, renewIntervalMs: 0 })).toThrow("renewIntervalMs must be in [1, leaseMs - safetyMarginMs), got 0");
    expect(() => leaseTiming({ leaseMs: 100, safetyMarginMs: 10, renewIntervalMs: 90 })).toThrow("renewIntervalMs must be in [1, leaseMs - safetyMarginMs), got 90");
  });

  it("retries a standby right after a holder's lock that has just expired, and the usual period without one", () => {
    const timing = leaseTiming({ leaseMs: 900, renewIntervalMs: 300, safetyMarginMs: 90 });
    expect(standbyRetryDelay(0, timing)).toBe(1);
    expect(standbyRetryDelay(299, timing)).toBe(300);
    expect(standbyRetryDelay(-2, timing)).toBe(300);
  });

  it("reads a monotonic clock", () => {
    const a = monotonicNow();
    expect(monotonicNow()).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - performance.now())).toBeLessThan(1_000);
  });
});
