import { describe, expect, it } from "vitest";
import { namedStatement } from "./named-statement.js";

describe("namedStatement", () => {
  it("sends the text under a name derived from it, with the values of each call", () => {
    const claim = namedStatement("SELECT $1::int");
    const first = claim([1]);
    expect(first).toEqual({ name: expect.stringMatching(/^jq_[0-9a-f]{24}$/), text: "SELECT $1::int", values: [1] });
    expect(claim([2])).toEqual({ ...first, values: [2] });
  });

  it("gives the same text the same name and different texts different names, within Postgres' 63-byte limit", () => {
    const a = namedStatement("SELECT 1")([]).name;
    expect(namedStatement("SELECT 1")([]).name).toBe(a);
    expect(namedStatement("SELECT 2")([]).name).not.toBe(a);
    expect(Buffer.byteLength(a!)).toBeLessThanOrEqual(63);
  });
});
