import { describe, expect, it } from "vitest";
import { leadershipDeadline, leaseTiming, nextRenewalDelay, standbyRetryDelay } from "./lease.js";

describe("leaseTiming", () => {
  it("renews every lease/3 and gives up lease/10 early by default", () => {
    expect(leaseTiming({ leaseMs: 15_000 })).toEqual({ leaseMs: 15_000, renewIntervalMs: 5_000, safetyMarginMs: 1_500 });
  });

  it("refuses a renewal period that leaves no renewal before the deadline", () => {
    expect(() => leaseTiming({ leaseMs: 1_000, renewIntervalMs: 900 })).toThrow(RangeError);
    expect(() => leaseTiming({ leaseMs: 1_000, safetyMarginMs: 1_000 })).toThrow(RangeError);
    expect(() => leaseTiming({ leaseMs: 10 })).toThrow(RangeError);
  });
});

describe("lease arithmetic", () => {
  const timing = leaseTiming({ leaseMs: 900, renewIntervalMs: 300, safetyMarginMs: 90 });

  it("ends a term lease - margin after the last successful command was sent", () => {
    expect(leadershipDeadline(1_000, timing)).toBe(1_810);
  });

  it("renews an interval after the last renewal was sent, at once when late", () => {
    expect(nextRenewalDelay(1_000, 1_050, timing)).toBe(250);
    expect(nextRenewalDelay(1_000, 1_400, timing)).toBe(0);
  });

  it("lets a standby retry just after the holder's lock expires when that comes first", () => {
    expect(standbyRetryDelay(120, timing)).toBe(121);
    expect(standbyRetryDelay(5_000, timing)).toBe(300);
    expect(standbyRetryDelay(-1, timing)).toBe(300);
  });
});
