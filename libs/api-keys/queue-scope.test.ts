import { describe, expect, it } from "vitest";
import { QueueScope } from "./queue-scope.js";

describe("QueueScope", () => {
  it("allows names and prefixes of a scoped key, everything for an unscoped one", () => {
    const s = new QueueScope(["billing", "reports.*"]);
    expect(["billing", "reports.daily", "reports."].map((q) => s.allows(q))).toEqual([true, true, true]);
    expect(["billing2", "report", "other"].map((q) => s.allows(q))).toEqual([false, false, false]);
    expect(QueueScope.ALL.allows("anything")).toBe(true);
    expect(new QueueScope(["*"]).allows("x")).toBe(true);
  });

  it("refuses a named queue with PERMISSION_DENIED, hides found objects as NOT_FOUND, and wants a queue named", () => {
    const s = new QueueScope(["a"]);
    expect(() => s.require("b", "queue")).toThrow(expect.objectContaining({ kind: "permission_denied" }));
    expect(() => s.hide("b", "job", "j1")).toThrow(expect.objectContaining({ kind: "not_found" }));
    expect(() => s.requireNamed(null, "queue")).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
    expect(() => QueueScope.ALL.requireNamed(null, "queue")).not.toThrow();
  });
});
