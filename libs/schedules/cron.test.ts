import { describe, expect, it } from "vitest";
import { InvalidArgument } from "../errors/index.js";
import { nextCronRun } from "./cron.js";

describe("nextCronRun", () => {
  it("computes the next occurrence in the schedule's time zone", () => {
    const from = new Date("2026-03-01T10:00:00Z");
    expect(nextCronRun("0 3 * * *", "UTC", from).toISOString()).toBe("2026-03-02T03:00:00.000Z");
    // 03:00 in New York (UTC-5 in March before DST) is 08:00 UTC.
    expect(nextCronRun("0 3 * * *", "America/New_York", from).toISOString()).toBe("2026-03-02T08:00:00.000Z");
    expect(nextCronRun("*/15 * * * *", "UTC", from).toISOString()).toBe("2026-03-01T10:15:00.000Z");
  });
  it("refuses six-field expressions, garbage and unknown zones, naming the field", () => {
    expect(() => nextCronRun("*/5 * * * * *", "UTC")).toThrow(/^cron: must have five fields/);
    expect(() => nextCronRun("61 * * * *", "UTC")).toThrow(InvalidArgument);
    expect(() => nextCronRun("0 3 * * *", "Mars/Olympus")).toThrow(/^time_zone: /);
  });
});
