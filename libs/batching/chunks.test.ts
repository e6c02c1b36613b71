import { describe, expect, it } from "vitest";
import { chunkByLimits } from "./chunks.js";

describe("chunkByLimits", () => {
  const size = (n: number) => n;

  it("cuts by count, in order", () => {
    expect(chunkByLimits([1, 2, 3, 4, 5], () => 1, { maxItems: 2, maxBytes: 100 })).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("cuts by estimated bytes, an oversized item alone", () => {
    expect(chunkByLimits([40, 40, 30, 90, 500, 10, 10], size, { maxItems: 10, maxBytes: 100 })).toEqual([[40, 40], [30], [90], [500], [10, 10]]);
    expect(chunkByLimits([50, 50, 1], size, { maxItems: 10, maxBytes: 100 })).toEqual([[50, 50], [1]]); // exactly the budget fits
    expect(chunkByLimits([], size, { maxItems: 10, maxBytes: 100 })).toEqual([]);
  });
});
