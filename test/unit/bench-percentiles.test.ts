import { describe, expect, it } from "vitest";
import { percentile, percentileByWindow } from "../../bench/support/load.js";

describe("the bench's percentiles", () => {
  it("takes the nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 99)).toBeNaN();
  });

  it("gives each whole window its own percentile and leaves out samples outside them", () => {
    const samples: [number, number][] = [
      [999, 500], // before the first window
      ...Array.from({ length: 100 }, (_, i): [number, number] => [1000 + i, i + 1]),
      ...Array.from({ length: 100 }, (_, i): [number, number] => [2000 + i, 1000 + i]),
      [3000, 7000], // after the last window
    ];
    expect(percentileByWindow(samples, 99, 1000, 1000, 2)).toEqual([99, 1098]);
    expect(percentileByWindow(samples, 50, 1000, 1000, 3)).toEqual([50, 1049, 7000]);
    expect(percentileByWindow([], 99, 0, 1000, 1)).toEqual([NaN]);
  });
});
