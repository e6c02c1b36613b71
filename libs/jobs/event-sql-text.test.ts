import { describe, expect, it } from "vitest";
import type { JobStatus } from "../lifecycle/index.js";
import { appendEventChain, appendEvents, EventRows, move, type Move } from "./transition-sql.js";

// The SQL text transition-sql.ts builds for event rows, checked where the statements that use it
// are built at module load (so a mutant there is invisible to the integration tests): each part of
// an event series, the NULL source of a new job, and the refusal of anything but a lifecycle
// constant inside a quoted literal. (Surviving mutants, docs/testing.md "Mutation testing".)

describe("event SQL text", () => {
  it("writes a chain from one scan of its source: slot i holds part i where the leading parts apply, else part i + their count", () => {
    const c = "from_status = 'ASSIGNED'";
    const chain = appendEventChain("done", [
      { move: move("PENDING", "ASSIGNED", "CLAIMED"), when: c, values: { worker: "worker_id", at: "assigned_at" } },
      { move: move("ASSIGNED", "RUNNING", "DELIVERED"), when: c, values: { worker: "worker_id", at: "delivered_at" } },
      { move: move("RUNNING", "DONE", "SUCCEEDED"), values: { worker: "worker_id" } },
    ]);
    expect(chain).toMatch(
      /^INSERT INTO job_event_rows \(job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message, created_at, xid, next_event_type, next_to_status, next_reason, next_worker_id, next_attempt, next_message, next_created_at, third_event_type, third_to_status, third_reason, third_worker_id, third_attempt, third_message, third_created_at\)/,
    );
    expect(chain).toContain(
      `SELECT id, queue, CASE WHEN ${c} THEN 'job.assigned' ELSE 'job.succeeded' END, CASE WHEN ${c} THEN 'PENDING'::job_status ELSE 'RUNNING'::job_status END, ` +
        `CASE WHEN ${c} THEN 'ASSIGNED'::job_status ELSE 'DONE'::job_status END, CASE WHEN ${c} THEN 'CLAIMED' ELSE 'SUCCEEDED' END, worker_id, attempt, NULL::text, ` +
        `CASE WHEN ${c} THEN assigned_at ELSE now() END, event_xid, `,
    );
    expect(chain).toContain(
      `event_xid, CASE WHEN ${c} THEN 'job.started' ELSE NULL END, CASE WHEN ${c} THEN 'RUNNING'::job_status ELSE NULL END, CASE WHEN ${c} THEN 'DELIVERED' ELSE NULL END, ` +
        `CASE WHEN ${c} THEN worker_id ELSE NULL END, CASE WHEN ${c} THEN attempt ELSE NULL END, CASE WHEN ${c} THEN NULL::text ELSE NULL END, ` +
        `CASE WHEN ${c} THEN delivered_at ELSE NULL END, CASE WHEN ${c} THEN 'job.succeeded' ELSE NULL END, CASE WHEN ${c} THEN 'DONE'::job_status ELSE NULL END, ` +
        `CASE WHEN ${c} THEN 'SUCCEEDED' ELSE NULL END, CASE WHEN ${c} THEN worker_id ELSE NULL END, CASE WHEN ${c} THEN attempt ELSE NULL END, ` +
        `CASE WHEN ${c} THEN NULL::text ELSE NULL END, CASE WHEN ${c} THEN now() ELSE NULL END\n    FROM done ORDER BY id`,
    );
    const always = appendEventChain("changed", [
      { move: move("PENDING", "ASSIGNED", "CLAIMED"), values: { worker: "w", at: "a" } },
      { move: move("ASSIGNED", "PENDING", "LEASE_EXPIRED"), values: { worker: "w", message: "m" } },
    ]);
    expect(always).toContain(
      "SELECT id, queue, 'job.assigned', 'PENDING'::job_status, 'ASSIGNED'::job_status, 'CLAIMED', w, attempt, NULL::text, a, event_xid, " +
        "'job.requeued', 'PENDING'::job_status, 'LEASE_EXPIRED', w, attempt, m, now(), NULL, NULL, NULL, NULL, NULL, NULL, NULL\n",
    );
  });

  it("refuses a chain an event row cannot hold", () => {
    const [submitted, claimed, delivered, succeeded] = [
      move(null, "PENDING", "SUBMITTED"),
      move("PENDING", "ASSIGNED", "CLAIMED"),
      move("ASSIGNED", "RUNNING", "DELIVERED"),
      move("RUNNING", "DONE", "SUCCEEDED"),
    ];
    expect(() => appendEventChain("s", [{ move: submitted }, { move: succeeded }])).toThrow(
      "event chain SUBMITTED then SUCCEEDED: the second move cannot leave PENDING",
    );
    expect(() => appendEventChain("s", [])).toThrow("an event row holds 1 to 3 events, not 0");
    expect(() => appendEventChain("s", [submitted, claimed, delivered, succeeded].map((m) => ({ move: m })))).toThrow(
      "an event row holds 1 to 3 events, not 4",
    );
    const conditional = "only leading parts may be conditional, all on the same condition";
    expect(() => appendEventChain("s", [{ move: delivered }, { move: succeeded, when: "x" }])).toThrow(conditional);
    expect(() => appendEventChain("s", [{ move: claimed, when: "x" }, { move: delivered }, { move: succeeded, when: "x" }])).toThrow(conditional);
    expect(() => appendEventChain("s", [{ move: claimed, when: "x" }, { move: delivered, when: "y" }, { move: succeeded }])).toThrow(conditional);
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

  it("puts an event that continues the one before it, of the same job, in that one's row while it has room", () => {
    const rows = new EventRows();
    const job = { queue: "q", workerId: "w", attempt: 2 };
    const [claimedAt, deliveredAt] = [new Date("2026-01-01T00:00:00Z"), new Date("2026-01-01T00:00:01Z")];
    rows.add({ ...job, jobId: "a", from: "PENDING", to: "ASSIGNED", reason: "CLAIMED", message: null, at: claimedAt });
    rows.add({ ...job, jobId: "a", from: "ASSIGNED", to: "RUNNING", reason: "DELIVERED", message: null, at: deliveredAt });
    rows.add({ ...job, jobId: "a", from: "RUNNING", to: "FAILED", reason: "FAILED", message: "boom" });
    rows.add({ ...job, jobId: "a", from: "FAILED", to: "PENDING", reason: "RETRY_SCHEDULED", message: "retry 1" });
    rows.add({ ...job, jobId: "b", from: "RUNNING", to: "DONE", reason: "SUCCEEDED", message: null });
    rows.add({ ...job, jobId: "c", from: "RUNNING", to: "DONE", reason: "SUCCEEDED", message: null });
    expect(rows.size).toBe(6);
    const [jobIds, , types, from, to, , , , messages, ats, ...following] = rows.params();
    expect(jobIds).toEqual(["a", "a", "b", "c"]);
    expect(types).toEqual(["job.assigned", "job.retry_scheduled", "job.succeeded", "job.succeeded"]);
    expect(from).toEqual(["PENDING", "FAILED", "RUNNING", "RUNNING"]);
    expect(to).toEqual(["ASSIGNED", "PENDING", "DONE", "DONE"]);
    expect(messages).toEqual([null, "retry 1", null, null]);
    expect(ats).toEqual([claimedAt, null, null, null]);
    const none = [null, null, null];
    expect(following).toEqual([
      ["job.started", ...none], ["RUNNING", ...none], ["DELIVERED", ...none], ["w", ...none], [2, ...none], [null, ...none], [deliveredAt, ...none],
      ["job.failed", ...none], ["FAILED", ...none], ["FAILED", ...none], ["w", ...none], [2, ...none], ["boom", ...none], [null, ...none],
    ]);
    const sql = EventRows.insertSql(11, "updated");
    expect(sql).toContain("$21::text[], $22::job_status[], $23::text[], $24::uuid[], $25::int[], $26::text[], $27::timestamptz[]");
    expect(sql).toContain("$28::text[], $29::job_status[], $30::text[], $31::uuid[], $32::int[], $33::text[], $34::timestamptz[])");
    expect(sql).toContain("CASE WHEN e.third_event_type IS NOT NULL THEN coalesce(e.third_created_at, now()) END\n");
  });
});
