import { validate, version } from "uuid";
import { describe, expect, it } from "vitest";
import { newJobIds } from "./job-ids.js";

describe("newJobIds", () => {
  it("makes valid, distinct UUIDv7s that increase in the order they were asked for, within a millisecond too", () => {
    const ids = [...newJobIds(5000), ...newJobIds(1), ...newJobIds(3000)];
    expect(ids.every((id) => validate(id) && version(id) === 7)).toBe(true);
    expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Thousands of ids share each millisecond here: only the counter orders them.
    expect(new Set(ids.map((id) => id.slice(0, 13))).size).toBeLessThan(ids.length / 10);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it("carries the current time in its first 48 bits", () => {
    const before = Date.now();
    const [id] = newJobIds(1);
    const msecs = parseInt(id!.replace(/-/g, "").slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1);
  });

  it("makes none for none", () => {
    expect(newJobIds(0)).toEqual([]);
  });
});
