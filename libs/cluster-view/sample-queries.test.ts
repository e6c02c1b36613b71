import { v7 } from "uuid";
import { describe, expect, it } from "vitest";
import { uuidV7Floor } from "./sample-queries.js";

describe("uuidV7Floor", () => {
  it("sorts at or below every UUIDv7 of its millisecond and above those of the one before", () => {
    const ms = Date.UTC(2026, 11, 3, 6, 0, 0, 123);
    const floor = uuidV7Floor(ms);
    expect(floor).toBe(`${ms.toString(16).padStart(12, "0").slice(0, 8)}-${ms.toString(16).padStart(12, "0").slice(8)}-0000-0000-000000000000`);
    // Postgres compares uuids byte by byte, as these lower-case hex strings compare.
    for (let i = 0; i < 50; i++) {
      expect(v7({ msecs: ms }) >= floor).toBe(true);
      expect(v7({ msecs: ms - 1 }) < floor).toBe(true);
    }
  });
});

