import { describe, expect, it } from "vitest";
import { countTests, formatClosingLine, type CountableModule } from "../reporters/test-counts.js";

type State = "passed" | "failed" | "skipped" | "pending";

function module(states: State[], options: { errors?: number; suiteErrors?: number[] } = {}): CountableModule {
  const errors = (count = 0) => () => Array.from({ length: count }, () => new Error("hook"));
  return {
    errors: errors(options.errors),
    children: {
      allTests: () => states.map((state) => ({ result: () => ({ state }) })),
      allSuites: () => (options.suiteErrors ?? []).map((count) => ({ errors: errors(count) })),
    },
  };
}

describe("countTests", () => {
  it("counts tests across files by their result", () => {
    const modules = [module(["passed", "passed", "skipped"]), module(["failed", "passed"])];
    expect(countTests(modules, 0, "failed")).toEqual({ passed: 3, failed: 1, skipped: 1 });
  });

  it("counts a failed afterAll or import as a failure even when every test passed", () => {
    expect(countTests([module(["passed"], { errors: 1 })], 0, "failed")).toEqual({ passed: 1, failed: 1, skipped: 0 });
    expect(countTests([module([], { errors: 1 })], 0, "failed")).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });

  it("counts a failed beforeAll of a suite once", () => {
    const counts = countTests([module(["skipped", "skipped", "passed"], { suiteErrors: [1, 0] })], 0, "failed");
    expect(counts).toEqual({ passed: 1, failed: 1, skipped: 2 });
  });

  it("counts unhandled errors and unfinished tests as failures", () => {
    expect(countTests([module(["passed"])], 2, "failed").failed).toBe(2);
    expect(countTests([module(["passed", "pending"])], 0, "interrupted").failed).toBe(1);
  });

  it("never reports 0 failed for a run that did not pass", () => {
    expect(countTests([module(["passed"])], 0, "interrupted")).toEqual({ passed: 1, failed: 1, skipped: 0 });
    expect(countTests([], 0, "failed").failed).toBe(1);
    expect(countTests([module(["passed"])], 0, "passed").failed).toBe(0);
  });
});

describe("formatClosingLine", () => {
  it("prints the line CI parses", () => {
    expect(formatClosingLine({ passed: 12, failed: 0, skipped: 3 })).toBe("tests: 12 passed, 0 failed, 3 skipped");
  });
});
