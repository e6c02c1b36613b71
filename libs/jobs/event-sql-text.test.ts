import { describe, expect, it } from "vitest";
import type { JobStatus } from "../lifecycle/index.js";
import { appendEventPair, appendEvents, EventRows, move, type Move } from "./transition-sql.js";

// The SQL text transition-sql.ts builds for event rows, checked where the statements that use it
// are built at module load (so a mutant there is invisible to the integration tests): each part of
// an event series, the NULL source of a new job, and the refusal of anything but a lifecycle
// constant inside a quoted literal. (Surviving mutants, docs/testing.md "Mutation testing".)

describe("event SQL text", () => {
  it("writes a pair from one scan of its source: the row's own event is the first move's where it applies, else the second's", () => {
    const pair = appendEventPair(
      "done",
      { move: move("ASSIGNED", "RUNNING", "DELIVERED"), when: "from_status = 'ASSIGNED'", values: { worker: "worker_id", at: "delivered_at" } },
      { move: move("RUNNING", "DONE", "SUCCEEDED"), values: { worker: "worker_id" } },
    );
    const first = "from_status = 'ASSIGNED'";
    expect(pair).toMatch(
      /^INSERT INTO job_event_rows \(job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message, created_at, xid, next_event_type, next_to_status, next_reason,\s+next_worker_id, next_attempt, next_message, next_created_at\)/,
    );
    expect(pair).toContain(
      `SELECT id, queue, CASE WHEN ${first} THEN 'job.started' ELSE 'job.succeeded' END, CASE WHEN ${first} THEN 'ASSIGNED'::job_status ELSE 'RUNNING'::job_status END, ` +
        `CASE WHEN ${first} THEN 'RUNNING'::job_status ELSE 'DONE'::job_status END, CASE WHEN ${first} THEN 'DELIVERED' ELSE 'SUCCEEDED' END, worker_id, attempt, NULL::text, ` +
        `CASE WHEN ${first} THEN delivered_at ELSE now() END, event_xid, `,
    );
    expect(pair).toContain(
      `CASE WHEN ${first} AND true THEN 'job.succeeded' END, CASE WHEN ${first} AND true THEN 'DONE'::job_status END, CASE WHEN ${first} AND true THEN 'SUCCEEDED' END, ` +
        `CASE WHEN ${first} AND true THEN worker_id END, CASE WHEN ${first} AND true THEN attempt END, CASE WHEN ${first} AND true THEN NULL::text END, ` +
        `CASE WHEN ${first} AND true THEN now() END`,
    );
    expect(pair).toMatch(new RegExp(`FROM done WHERE \\(${first}\\) OR \\(true\\)\\s+ORDER BY id$`));
    const handed = appendEventPair(
      "inserted",
      { move: move(null, "PENDING", "SUBMITTED"), values: { xid: "x", attempt: "0" } },
      { move: move("PENDING", "ASSIGNED", "CLAIMED"), when: "w IS NOT NULL", values: { xid: "x", worker: "w", message: "m" } },
    );
    expect(handed).toContain("CASE WHEN true THEN NULL::job_status ELSE 'PENDING'::job_status END");
    expect(handed).toContain("CASE WHEN true THEN NULL::uuid ELSE w END, CASE WHEN true THEN 0 ELSE attempt END, CASE WHEN true THEN NULL::text ELSE m END, now(), x, ");
    expect(handed).toContain("CASE WHEN true AND w IS NOT NULL THEN w END, CASE WHEN true AND w IS NOT NULL THEN attempt END");
  });

  it("refuses a pair whose second move cannot leave the state the first enters", () => {
    expect(() => appendEventPair("s", { move: move(null, "PENDING", "SUBMITTED") }, { move: move("RUNNING", "DONE", "SUCCEEDED") })).toThrow(
      "event pair SUBMITTED then SUCCEEDED: the second move cannot leave PENDING",
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

  it("puts an event that continues the one before it, of the same job, in that one's row", () => {
    const rows = new EventRows();
    const job = { queue: "q", workerId: "w", attempt: 2 };
    const at = new Date("2026-01-01T00:00:00Z");
    rows.add({ ...job, jobId: "a", from: "ASSIGNED", to: "RUNNING", reason: "DELIVERED", message: null, at });
    rows.add({ ...job, jobId: "a", from: "RUNNING", to: "FAILED", reason: "FAILED", message: "boom" });
    rows.add({ ...job, jobId: "a", from: "FAILED", to: "PENDING", reason: "RETRY_SCHEDULED", message: "retry 1" });
    rows.add({ ...job, jobId: "b", from: "RUNNING", to: "DONE", reason: "SUCCEEDED", message: null });
    expect(rows.size).toBe(4);
    const [jobIds, , types, from, to, , , , messages, ats, nextTypes, nextTo, nextReasons, nextWorkers, nextAttempts, nextMessages, nextAts] = rows.params();
    expect(jobIds).toEqual(["a", "a", "b"]);
    expect(types).toEqual(["job.started", "job.retry_scheduled", "job.succeeded"]);
    expect(from).toEqual(["ASSIGNED", "FAILED", "RUNNING"]);
    expect(to).toEqual(["RUNNING", "PENDING", "DONE"]);
    expect(messages).toEqual([null, "retry 1", null]);
    expect(ats).toEqual([at, null, null]);
    expect(nextTypes).toEqual(["job.failed", null, null]);
    expect(nextTo).toEqual(["FAILED", null, null]);
    expect(nextReasons).toEqual(["FAILED", null, null]);
    expect(nextWorkers).toEqual(["w", null, null]);
    expect(nextAttempts).toEqual([2, null, null]);
    expect(nextMessages).toEqual(["boom", null, null]);
    expect(nextAts).toEqual([null, null, null]);
    expect(EventRows.insertSql(11, "updated")).toContain("$27::timestamptz[]");
  });
});
