import { describe, expect, it } from "vitest";
import { DependencyUnavailable, FailedPrecondition, InvalidArgument, LimitExceeded, NotFound } from "../errors/index.js";
import { refusesOnlyItsResult, statusOfVerdict } from "./result-verdicts.js";

describe("result verdicts", () => {
  it("the unary answer: the new status, NotFound, or FailedPrecondition for a stale result", () => {
    expect(statusOfVerdict({ code: "accepted", status: "PENDING", queue: "q", workerId: "w" }, "j")).toBe("PENDING");
    expect(() => statusOfVerdict({ code: "not_found" }, "j")).toThrow(NotFound);
    expect(() => statusOfVerdict({ code: "stale", detail: "attempt 1 is not current" }, "j")).toThrow(
      new FailedPrecondition("stale result: attempt 1 is not current; nothing changed"),
    );
  });

  it("only bad values and values over a limit refuse just their own result", () => {
    expect(refusesOnlyItsResult(new InvalidArgument("f", "bad"))).toBe(true);
    expect(refusesOnlyItsResult(new LimitExceeded("f", 1, 2, "bytes"))).toBe(true);
    expect(refusesOnlyItsResult(new DependencyUnavailable("postgres"))).toBe(false);
    expect(refusesOnlyItsResult(new FailedPrecondition("x"))).toBe(false);
    expect(refusesOnlyItsResult(new Error("bug"))).toBe(false);
  });
});
