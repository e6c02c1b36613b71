import { describe, expect, it } from "vitest";
import type { JobStatus } from "../lifecycle/index.js";
import { appendEvents, appendEventSeries, EventRows, move, type Move } from "./transition-sql.js";

// The SQL text transition-sql.ts builds for event rows, checked where the statements that use it
// are built at module load (so a mutant there is invisible to the integration tests): each part of
// an event series, the NULL source of a new job, and the refusal of anything but a lifecycle
// constant inside a quoted literal. (Surviving mutants, docs/testing.md "Mutation testing".)

describe("event SQL text", () => {
  it("writes one select per part of a series, each with its move's constants and step", () => {
    const series = appendEventSeries([
      { move: move("ASSIGNED", "RUNNING", "DELIVERED"), source: "done WHERE from_status = 'ASSIGNED'", values: { worker: "worker_id", at: "delivered_at" } },
      { move: move("RUNNING", "DONE", "SUCCEEDED"), source: "done" },
    ]);
    expect(series).toContain("'job.started' AS event_type, 'ASSIGNED'::job_status AS from_status, 'RUNNING'::job_status AS to_status");
    expect(series).toContain("'job.succeeded' AS event_type, 'RUNNING'::job_status AS from_status, 'DONE'::job_status AS to_status");
    expect(series).toMatch(/worker_id AS worker_id, attempt, NULL::text AS message,\s+delivered_at AS created_at, event_xid AS xid, 0 AS step\s+FROM done WHERE from_status = 'ASSIGNED'/);
    expect(series).toMatch(/NULL::uuid AS worker_id, attempt, NULL::text AS message,\s+now\(\) AS created_at, event_xid AS xid, 1 AS step\s+FROM done\)/);
    expect(series).toContain(" UNION ALL ");
    expect(appendEventSeries([{ move: move("PENDING", "ASSIGNED", "CLAIMED"), source: "s", values: { from: "f", xid: "x", message: "m" } }])).toMatch(
      /'job.assigned' AS event_type, f AS from_status, .* m AS message,\s+now\(\) AS created_at, x AS xid, 0 AS step/s,
    );
  });

  it("gives a new job's event a NULL source state", () => {
    expect(appendEvents(move(null, "PENDING", "SUBMITTED"), "inserted")).toContain("'job.submitted', NULL::job_status, 'PENDING'::job_status, 'SUBMITTED'");
  });

  it("refuses to quote anything but a lifecycle constant", () => {
    const forged = (to: string): Move => ({ from: ["PENDING"], to: to as JobStatus, reason: "CLAIMED", eventType: "job.assigned" });
    expect(() => appendEvents(forged("ASSIGNED'; DROP TABLE jobs; --"), "s")).toThrow("not a lifecycle constant: ASSIGNED'; DROP TABLE jobs; --");
    expect(() => appendEvents(forged("'ASSIGNED"), "s")).toThrow("not a lifecycle constant: 'ASSIGNED");
    expect(() => appendEvents(forged(""), "s")).toThrow("not a lifecycle constant: ");
    expect(appendEvents(forged("ASSIGNED"), "s")).toContain("'ASSIGNED'::job_status");
  });

  it("keeps the given time of an event row, and null for the transaction's now()", () => {
    const rows = new EventRows();
    const at = new Date("2026-01-01T00:00:00Z");
    const event = { jobId: "j", queue: "q", from: "ASSIGNED" as const, to: "RUNNING" as const, reason: "DELIVERED" as const, workerId: "w", attempt: 1, message: null };
    rows.add({ ...event, at });
    rows.add(event);
    const params = rows.params();
    expect(params[1]).toEqual(["q", "q"]);
    expect(params[9]).toEqual([at, null]);
  });
});
