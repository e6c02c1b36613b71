import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidTransition, TRANSITIONS } from "../lifecycle/index.js";
import { appendEventChain, appendEvents, EventRows, move, moveFromEverySource, setStatus } from "./transition-sql.js";

const ROOT = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

const PRODUCTION = [...sources(join(ROOT, "libs")), ...sources(join(ROOT, "apps"))].map((path) => ({
  file: relative(ROOT, path),
  text: readFileSync(path, "utf8"),
}));

describe("the one home of job state changes", () => {
  it("is the only production file that writes job_events", () => {
    const writers = PRODUCTION.filter((f) => /INSERT\s+INTO\s+job_event/i.test(f.text)).map((f) => f.file);
    expect(writers).toEqual(["libs/jobs/transition-sql.ts"]);
  });

  it("is used by every statement that changes a job's status, and nothing else sets one", () => {
    const setters = PRODUCTION.filter((f) => /UPDATE\s+jobs\b[\s\S]*?\bSET\b[\s\S]*?(\bstatus\s*=|setStatus\()/i.test(f.text));
    expect(setters.map((f) => f.file).sort()).toEqual([
      "libs/attempts/finish-attempts.ts",
      "libs/attempts/report-successes.ts",
      "libs/dispatch/claim-jobs.ts",
      "libs/jobs/transition-jobs.ts",
    ]);
    for (const f of setters) {
      expect(f.text, f.file).toMatch(/from "(\.\.\/jobs\/)?\.?\/?transition-sql\.js"/);
      expect(f.text, f.file).toMatch(/NEXT_EVENT_XID/);
      expect(f.text, f.file).toMatch(/appendEvents|appendEventChain|EventRows/);
    }
  });

  it("makes a move only from rows of the lifecycle table", () => {
    expect(() => move("DONE", "PENDING", "SUBMITTED")).toThrow(InvalidTransition);
    expect(() => move(["PENDING", "DONE"], "DEAD_LETTERED", "CANCELLED")).toThrow(InvalidTransition);
    expect(() => move(null, "RUNNING", "DELIVERED")).toThrow(InvalidTransition);
    for (const r of TRANSITIONS) expect(move(r.from, r.to, r.reason).eventType).toBe(r.eventType);
    expect(moveFromEverySource("DEAD_LETTERED", "CANCELLED").from).toEqual(["PENDING", "ASSIGNED", "RUNNING"]);
  });

  it("refuses an event row that is not in the table", () => {
    const rows = new EventRows();
    const event = { jobId: "j", queue: "q", workerId: null, attempt: 1, message: null };
    expect(() => rows.add({ ...event, from: "RUNNING", to: "PENDING", reason: "SUCCEEDED" })).toThrow(InvalidTransition);
    rows.add({ ...event, from: "RUNNING", to: "DONE", reason: "SUCCEEDED" });
    expect(rows.size).toBe(1);
    expect(rows.params()[2]).toEqual(["job.succeeded"]);
  });

  it("writes the move's constants and the ordering xid into the event insert", () => {
    const sql = appendEvents(move("PENDING", "ASSIGNED", "CLAIMED"), "claimed", { worker: "$3::uuid" });
    expect(sql).toContain("'job.assigned', 'PENDING'::job_status, 'ASSIGNED'::job_status, 'CLAIMED'");
    expect(sql).toMatch(/event_xid\s+FROM claimed ORDER BY id/);
    expect(() => appendEvents(moveFromEverySource("DEAD_LETTERED", "CANCELLED"), "x")).toThrow(/name the source column/);
    const pair = appendEventChain("done", [{ move: move("ASSIGNED", "RUNNING", "DELIVERED") }, { move: move("RUNNING", "DONE", "SUCCEEDED") }]);
    expect(pair).toMatch(/NULL, NULL, NULL, NULL, NULL, NULL, NULL\s+FROM done ORDER BY id$/);
    expect(setStatus(move("PENDING", "ASSIGNED", "CLAIMED"))).toBe("status = 'ASSIGNED'::job_status, status_reason = 'CLAIMED'");
  });
});
