import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "../backoff/index.js";
import { DEFAULT_RECONNECT_POLICY, ReconnectBackoff, reconnectBackoff, type ReconnectPolicy } from "./backoff.js";

const policy = { initialDelayMs: 100, maxDelayMs: 5_000 };
const reconnectDelayMs = (failures: number, p: ReconnectPolicy, random?: () => number) => backoffDelayMs(failures, reconnectBackoff(p), random);

describe("reconnectDelayMs", () => {
  it("doubles from the initial delay up to the cap, with half of it jittered", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => reconnectDelayMs(n, policy, () => 0))).toEqual([50, 100, 200, 400, 800, 1600, 2500]);
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => reconnectDelayMs(n, policy, () => 0.999999))).toEqual([100, 200, 400, 800, 1600, 3200, 5000]);
  });

  it("stays at the cap for long outages and is never zero", () => {
    expect(reconnectDelayMs(10_000, policy, () => 0.5)).toBe(3750);
    expect(reconnectDelayMs(0, { initialDelayMs: 1, maxDelayMs: 1 }, () => 0)).toBeGreaterThan(0);
  });

  it("refuses a negative or fractional failure count", () => {
    expect(() => reconnectDelayMs(-1, policy)).toThrow(RangeError);
    expect(() => reconnectDelayMs(1.5, policy)).toThrow(RangeError);
  });

  it("defaults to 100 ms → 5 s", () => {
    expect(DEFAULT_RECONNECT_POLICY).toEqual(policy);
  });
});

describe("ReconnectBackoff", () => {
  it("climbs while connections drop at once and starts over after a healthy one", () => {
    let now = 0;
    const backoff = new ReconnectBackoff(policy, () => now, () => 0.999999);
    expect(backoff.nextDelayMs()).toBe(100);
    expect(backoff.nextDelayMs()).toBe(200); // the reconnect itself failed
    backoff.connected();
    now += 1_000; // up for less than the cap: a flapping stream keeps climbing
    expect(backoff.nextDelayMs()).toBe(400);
    backoff.connected();
    now += 5_000; // up long enough to count as healthy
    expect(backoff.nextDelayMs()).toBe(100);
  });
});
