import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalescer.js";

/** A writer that records its batches and answers each item with its double, slowly. */
function recordingWriter(ms = 5) {
  const batches: number[][] = [];
  const write = async (items: readonly number[]) => {
    batches.push([...items]);
    await sleep(ms);
    if (items.includes(13)) throw new Error("13 is refused");
    return items.map((i) => i * 2);
  };
  return { batches, write };
}

describe("Coalescer (group commit)", () => {
  it("writes a lone item at once, and everything that arrives while a write is in flight in the next one", async () => {
    const w = recordingWriter();
    const c = new Coalescer(w.write, { maxBatch: 100 });
    const first = c.add(1);
    await sleep(1);
    const rest = [2, 3, 4].map((i) => c.add(i));
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6, 8]);
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
  });

  it("with a window, holds a lone item for company and writes what arrives within it together", async () => {
    const w = recordingWriter(1);
    const c = new Coalescer(w.write, { maxBatch: 100, windowMs: 60 });
    const started = performance.now();
    const first = c.add(1);
    await sleep(10);
    const second = c.add(2);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    expect(w.batches).toEqual([[1, 2]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it("writes a full batch at once, by count or by weight, whatever is left of the window", async () => {
    const w = recordingWriter(1);
    const started = performance.now();
    const byCount = new Coalescer(w.write, { maxBatch: 3, windowMs: 5_000 });
    await Promise.all([1, 2, 3].map((i) => byCount.add(i)));
    const byWeight = new Coalescer(w.write, { maxBatch: 10, weight: (i) => i, windowMs: 5_000 });
    const four = byWeight.add(4);
    await sleep(5);
    await Promise.all([four, byWeight.add(6)]);
    expect(w.batches).toEqual([[1, 2, 3], [4, 6]]);
    expect(performance.now() - started).toBeLessThan(2_500);
  });

  it("waits for the window only while writes are small (windowBelow)", async () => {
    const w = recordingWriter(1);
    const c = new Coalescer(w.write, { maxBatch: 100, windowMs: 300, windowBelow: 2 });
    // The first write has nothing before it: a trickle, so it waits for company.
    let t = performance.now();
    await Promise.all([c.add(1), c.add(2)]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(250);
    // The last write took 2 items: the next goes at the end of this turn.
    t = performance.now();
    await c.add(3);
    expect(performance.now() - t).toBeLessThan(250);
    // That one took 1: waiting again.
    t = performance.now();
    await c.add(4);
    expect(performance.now() - t).toBeGreaterThanOrEqual(250);
    expect(w.batches).toEqual([[1, 2], [3], [4]]);
  });

  it("caps a batch by count, or by weight with a heavy item still travelling alone", async () => {
    const w = recordingWriter(1);
    const byCount = new Coalescer(w.write, { maxBatch: 2 });
    await Promise.all([1, 2, 3, 4, 5].map((i) => byCount.add(i)));
    expect(w.batches).toEqual([[1, 2], [3, 4], [5]]);
    const v = recordingWriter(1);
    const byWeight = new Coalescer(v.write, { maxBatch: 10, weight: (i) => i });
    await Promise.all([20, 3, 4, 5].map((i) => byWeight.add(i)));
    expect(v.batches).toEqual([[20], [3, 4], [5]]);
  });

  it("fails only the bad item when the batch fails for a reason it isolates", async () => {
    const w = recordingWriter(1);
    const c = new Coalescer(w.write, { maxBatch: 10, isolates: () => true });
    const outcomes = await Promise.allSettled([12, 13, 14].map((i) => c.add(i)));
    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message))).toEqual([24, "13 is refused", 28]);
    expect(w.batches).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it("fails the whole batch when the error is not the items' (a lost connection)", async () => {
    const w = recordingWriter(1);
    const c = new Coalescer(w.write, { maxBatch: 10, isolates: () => false });
    const outcomes = await Promise.allSettled([12, 13].map((i) => c.add(i)));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(w.batches).toHaveLength(1);
  });

  it("refuses items beyond maxQueued with the caller's error, and takes them again once drained", async () => {
    const w = recordingWriter(20);
    const c = new Coalescer(w.write, { maxBatch: 1, maxQueued: 2, full: (i) => new Error(`full at ${i}`) });
    const accepted = [1, 2, 3].map((i) => c.add(i)); // 1 is written at once; 2 and 3 wait
    await sleep(1);
    await expect(c.add(4)).rejects.toThrow("full at 4");
    expect(await Promise.all(accepted)).toEqual([2, 4, 6]);
    await expect(c.add(5)).resolves.toBe(10);
    await c.drain();
  });

  it("refuses items beyond maxQueuedSize, though one item of any size is always taken", async () => {
    const w = recordingWriter(20);
    const c = new Coalescer(w.write, { maxBatch: 1, maxQueuedSize: 10, size: (i) => i, full: (i) => new Error(`full at ${i}`) });
    const first = c.add(1); // written at once
    const big = c.add(50); // alone in the queue: taken
    await expect(c.add(2)).rejects.toThrow("full at 2");
    expect(await Promise.all([first, big])).toEqual([2, 100]);
    await expect(c.add(6)).resolves.toBe(12);
  });
});
