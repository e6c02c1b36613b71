import { describe, expect, it } from "vitest";
import { OTHER_QUEUES, percentile, TimeSeries, type SamplePoint } from "./time-series.js";

const point = (at: number, over: Partial<SamplePoint> = {}): SamplePoint => ({
  at,
  seconds: 5,
  succeeded: 10,
  failed: 0,
  pending: new Map(),
  latenciesMs: [],
  ...over,
});

describe("dashboard time series", () => {
  it("keeps only the window and serves rates per second, oldest first", () => {
    const s = new TimeSeries(60_000, 5_000);
    for (let i = 0; i <= 20; i++) s.add(point(1_000_000 + i * 5_000, { succeeded: i * 5, failed: 1 }));
    // 21 points 5 s apart span 100 s; the window keeps the last 60 s (13 points, both ends included).
    const json = s.toJson();
    expect(json.t).toHaveLength(13);
    expect(json.t[0]).toBe(1_040);
    expect(json.t.at(-1)).toBe(1_100);
    expect(json.succeededPerSecond.at(-1)).toBe(20);
    expect(json.failedPerSecond[0]).toBe(0.2);
    expect(json.intervalSeconds).toBe(5);
    expect(json.windowSeconds).toBe(60);
  });

  it("leaves a failed sample as a gap, not a zero", () => {
    const s = new TimeSeries(60_000, 5_000);
    s.add(point(0, { pending: new Map([["a", 3]]) }));
    s.add(point(5_000, { succeeded: null, failed: null, pending: null, seconds: 0 }));
    const json = s.toJson();
    expect(json.succeededPerSecond).toEqual([2, null]);
    expect(json.succeeded).toEqual([10, null]);
    expect(json.backlog).toEqual([{ queue: "a", pending: [3, null] }]);
  });

  it("draws the largest backlogs on their own and sums the rest", () => {
    const s = new TimeSeries(60_000, 5_000, 2);
    s.add(point(0, { pending: new Map([["a", 1], ["b", 50], ["c", 7], ["d", 2]]) }));
    s.add(point(5_000, { pending: new Map([["a", 90]]) }));
    expect(s.toJson().backlog).toEqual([
      { queue: "a", pending: [1, 90] },
      { queue: "b", pending: [50, 0] },
      { queue: OTHER_QUEUES, pending: [9, 0] },
    ]);
  });

  it("computes latency percentiles per point, null when nothing started", () => {
    const s = new TimeSeries(60_000, 5_000);
    s.add(point(0, { latenciesMs: Array.from({ length: 100 }, (_, i) => i + 1) }));
    s.add(point(5_000));
    const { latencyMs } = s.toJson();
    expect(latencyMs).toEqual({ p50: [50, null], p90: [90, null], p99: [99, null], samples: [100, 0] });
  });

  it("uses nearest-rank percentiles", () => {
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
  });
});
