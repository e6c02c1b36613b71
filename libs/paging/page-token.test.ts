import { describe, expect, it } from "vitest";
import { InvalidArgument, LimitExceeded } from "../errors/index.js";
import { PageTokenCodec, resolvePageSize } from "./index.js";

const codec = new PageTokenCodec(Buffer.alloc(32, 7));

describe("page tokens", () => {
  it("round-trips the key within the same scope", () => {
    const token = codec.encode("jobs|q=emails", ["0190f5b2-7c1a-7d3e-8f00-123456789abc", 3]);
    expect(codec.decode("jobs|q=emails", token)).toEqual(["0190f5b2-7c1a-7d3e-8f00-123456789abc", 3]);
  });
  it("refuses a token used with other filters", () => {
    const token = codec.encode("jobs|q=emails", ["a"]);
    expect(() => codec.decode("jobs|q=billing", token)).toThrow("page_token: belongs to a request with different filters");
  });
  it("refuses an edited token, a token signed with another key, and garbage", () => {
    const token = codec.encode("s", ["a"]);
    const [body, mac] = token.split(".");
    const forgedBody = Buffer.from(JSON.stringify({ v: 1, s: JSON.parse(Buffer.from(body!, "base64url").toString()).s, k: ["z"] })).toString("base64url");
    expect(() => codec.decode("s", `${forgedBody}.${mac}`)).toThrow(InvalidArgument);
    expect(() => new PageTokenCodec(Buffer.alloc(32, 8)).decode("s", token)).toThrow(/altered/);
    for (const bad of ["", "abc", "a.b.c", "%%%.###", "x".repeat(3000)]) expect(() => codec.decode("s", bad, "page_token")).toThrow(InvalidArgument);
  });
});

describe("page size", () => {
  const limits = { defaultPageSize: 100, maxPageSize: 1000 };
  it("uses the default for 0 and accepts up to the limit", () => {
    expect(resolvePageSize(0, limits)).toBe(100);
    expect(resolvePageSize(1000, limits)).toBe(1000);
  });
  it("names the field on bad sizes", () => {
    expect(() => resolvePageSize(-1, limits)).toThrow(InvalidArgument);
    expect(() => resolvePageSize(1001, limits)).toThrow(LimitExceeded);
    expect(() => resolvePageSize(1001, limits)).toThrow("page_size: 1001 items exceeds the limit of 1000 items");
  });
});
