import { describe, expect, it } from "vitest";
import { StartLatencies } from "./start-latencies.js";

const job = (id: string, ms: number) => ({ id, ms });

describe("StartLatencies: each job's submit→start latency once", () => {
  it("counts a job when first seen held, and neither while it stays held nor when it finishes", () => {
    const l = new StartLatencies();
    expect(l.take(5_000, [], [job("a", 40)], 500)).toEqual([40]);
    expect(l.take(10_000, [], [job("a", 40)], 500)).toEqual([]);
    expect(l.take(15_000, [job("a", 40)], [], 500)).toEqual([]);
    // finished and forgotten: a later sample that sees it finished again (it cannot) would count it
    expect(l.take(20_000, [job("a", 40)], [], 500)).toEqual([40]);
  });

  it("counts a job that no sample saw held when it finishes, whenever its start was stamped", () => {
    const l = new StartLatencies();
    expect(l.take(5_000, [job("b", 12), job("c", 30)], [job("d", 7)], 500)).toEqual([12, 30, 7]);
  });

  it("keeps at most `limit` from each source, and counts a held job left out in a later sample", () => {
    const l = new StartLatencies();
    expect(l.take(5_000, [job("f1", 1), job("f2", 2), job("f3", 3)], [job("h1", 10), job("h2", 20), job("h3", 30)], 2)).toEqual([1, 2, 10, 20]);
    expect(l.take(10_000, [], [job("h1", 10), job("h2", 20), job("h3", 30)], 2)).toEqual([30]);
    expect(l.take(15_000, [job("h1", 10), job("h2", 20), job("h3", 30)], [], 2)).toEqual([]);
  });

  it("forgets a counted job no sample has seen held for a minute (handed back), but not one still held", () => {
    const l = new StartLatencies();
    l.take(0, [], [job("gone", 5), job("long", 6)], 500);
    l.take(59_000, [], [job("long", 6)], 500);
    expect(l.take(60_001, [job("gone", 5), job("long", 6)], [], 500)).toEqual([5]);
  });

  it("never reports a negative latency (clocks a few ms apart)", () => {
    expect(new StartLatencies().take(0, [job("x", -3)], [], 500)).toEqual([0]);
  });
});
