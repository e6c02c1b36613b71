import { describe, expect, it } from "vitest";
import { JOB_STATUSES, type JobStatus } from "./job-status.js";
import {
  afterFailure,
  eventTypeOf,
  findTransition,
  InvalidTransition,
  requireTransition,
  sourcesOf,
  TRANSITION_REASONS,
  TRANSITIONS,
  type TransitionReason,
} from "./transitions.js";

// SPEC §3, row by row, written out independently of the implementation's table.
const SPEC_ROWS: [JobStatus | null, JobStatus, TransitionReason, string][] = [
  [null, "PENDING", "SUBMITTED", "job.submitted"], // — → PENDING: SubmitJob
  ["PENDING", "ASSIGNED", "CLAIMED", "job.assigned"], // claimed for a worker with a free slot
  ["ASSIGNED", "RUNNING", "DELIVERED", "job.started"], // written to the worker's stream
  ["ASSIGNED", "PENDING", "DELIVERY_FAILED", "job.requeued"], // stream broke before delivery
  ["ASSIGNED", "PENDING", "LEASE_EXPIRED", "job.requeued"], // never delivered, lease passed (SPEC §7)
  ["ASSIGNED", "PENDING", "WORKER_LOST", "job.requeued"], // ASSIGNED jobs of a lost worker go back
  ["RUNNING", "DONE", "SUCCEEDED", "job.succeeded"], // ReportResult success
  ["RUNNING", "FAILED", "FAILED", "job.failed"], // ReportResult failure
  ["RUNNING", "FAILED", "TIMEOUT", "job.failed"], // execution timeout
  ["RUNNING", "FAILED", "WORKER_LOST", "job.failed"], // worker lost
  ["FAILED", "PENDING", "RETRY_SCHEDULED", "job.retry_scheduled"], // retries left
  ["FAILED", "DEAD_LETTERED", "RETRIES_EXHAUSTED", "job.dead_lettered"], // retries exhausted
  ["FAILED", "DEAD_LETTERED", "NOT_RETRYABLE", "job.dead_lettered"], // worker said not retryable
  ["PENDING", "DEAD_LETTERED", "CANCELLED", "job.cancelled"], // CancelJob
  ["ASSIGNED", "DEAD_LETTERED", "CANCELLED", "job.cancelled"], // CancelJob
  ["PENDING", "DEAD_LETTERED", "EXPIRED", "job.expired"], // TTL passed while PENDING
  ["RUNNING", "DEAD_LETTERED", "CANCELLED", "job.cancelled"], // CancelJob of a running job
  ["FAILED", "PENDING", "RETRIED_MANUALLY", "job.retry_scheduled"], // RetryJob
  ["DEAD_LETTERED", "PENDING", "RETRIED_MANUALLY", "job.retry_scheduled"], // RetryJob
];

describe("job state machine (SPEC §3)", () => {
  it.each(SPEC_ROWS)("allows %s → %s (%s) and publishes %s", (from, to, reason, eventType) => {
    const rule = requireTransition(from, to, reason);
    expect(rule).toMatchObject({ from, to, reason, eventType });
  });

  it("has no rows beyond the SPEC table", () => {
    expect(TRANSITIONS).toHaveLength(SPEC_ROWS.length);
  });

  it("refuses every other (from, to, reason) combination", () => {
    const allowed = new Set(SPEC_ROWS.map(([f, t, r]) => `${f}>${t}:${r}`));
    let refused = 0;
    for (const from of [null, ...JOB_STATUSES]) {
      for (const to of JOB_STATUSES) {
        for (const reason of TRANSITION_REASONS) {
          if (allowed.has(`${from}>${to}:${reason}`)) continue;
          expect(findTransition(from, to, reason), `${from}>${to}:${reason}`).toBeUndefined();
          expect(() => requireTransition(from, to, reason)).toThrow(InvalidTransition);
          refused++;
        }
      }
    }
    expect(refused).toBe(7 * 6 * TRANSITION_REASONS.length - SPEC_ROWS.length);
  });

  it.each([
    ["DONE", "PENDING", "SUBMITTED"],
    ["DONE", "DEAD_LETTERED", "CANCELLED"],
    ["DEAD_LETTERED", "DEAD_LETTERED", "CANCELLED"],
    ["FAILED", "DEAD_LETTERED", "CANCELLED"],
    ["RUNNING", "PENDING", "DELIVERY_FAILED"],
    ["DONE", "PENDING", "RETRIED_MANUALLY"],
    ["RUNNING", "DEAD_LETTERED", "EXPIRED"],
    ["PENDING", "RUNNING", "DELIVERED"],
  ] as const)("refuses %s → %s (%s) with a FAILED_PRECONDITION-kind error", (from, to, reason) => {
    const attempt = () => requireTransition(from, to, reason);
    expect(attempt).toThrow(InvalidTransition);
    expect(attempt).toThrow(`job cannot move from ${from} to ${to} (${reason})`);
    try {
      attempt();
    } catch (err) {
      expect((err as InvalidTransition).kind).toBe("failed_precondition");
    }
  });

  it("gives one event type per (to, reason), whatever the source state", () => {
    for (const r of TRANSITIONS) expect(eventTypeOf(r.to, r.reason)).toBe(r.eventType);
    expect(() => eventTypeOf("DONE", "CANCELLED")).toThrow(InvalidTransition);
  });

  it("derives the source states of a conditional update", () => {
    expect(sourcesOf("DEAD_LETTERED", "CANCELLED").sort()).toEqual(["ASSIGNED", "PENDING", "RUNNING"]);
    expect(sourcesOf("PENDING", "RETRIED_MANUALLY").sort()).toEqual(["DEAD_LETTERED", "FAILED"]);
    expect(sourcesOf("PENDING", "SUBMITTED")).toEqual([]);
  });
});

describe("afterFailure", () => {
  it("retries while retries are left and the failure is retryable", () => {
    expect(afterFailure({ retryCount: 0, maxRetries: 3, retryable: true })).toEqual({ to: "PENDING", reason: "RETRY_SCHEDULED" });
    expect(afterFailure({ retryCount: 2, maxRetries: 3, retryable: true })).toEqual({ to: "PENDING", reason: "RETRY_SCHEDULED" });
  });
  it("dead-letters when retries are exhausted", () => {
    expect(afterFailure({ retryCount: 3, maxRetries: 3, retryable: true })).toEqual({ to: "DEAD_LETTERED", reason: "RETRIES_EXHAUSTED" });
    expect(afterFailure({ retryCount: 0, maxRetries: 0, retryable: true })).toEqual({ to: "DEAD_LETTERED", reason: "RETRIES_EXHAUSTED" });
  });
  it("dead-letters a non-retryable failure even with retries left", () => {
    expect(afterFailure({ retryCount: 0, maxRetries: 5, retryable: false })).toEqual({ to: "DEAD_LETTERED", reason: "NOT_RETRYABLE" });
  });
  it("every outcome is a row of the state machine", () => {
    for (const o of [
      afterFailure({ retryCount: 0, maxRetries: 1, retryable: true }),
      afterFailure({ retryCount: 1, maxRetries: 1, retryable: true }),
      afterFailure({ retryCount: 0, maxRetries: 1, retryable: false }),
    ]) {
      expect(findTransition("FAILED", o.to, o.reason)).toBeDefined();
    }
  });
});
