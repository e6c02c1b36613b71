import { describe, expect, it } from "vitest";
import { FINAL_STATUSES, isFinalStatus, JOB_STATUSES } from "./job-status.js";
import { eventTypeOf, InvalidTransition, requireTransition, sourcesOf, TRANSITIONS, type TransitionRule } from "./transitions.js";

// What the lifecycle lookups answer beyond the table itself: the error a refused move raises
// (its text reaches clients as a FAILED_PRECONDITION detail), the source states of one (to,
// reason) only, the refusal of a table whose event type would depend on the source state, and
// which states are final. Written for the surviving mutants of docs/testing.md "Mutation testing".

describe("lifecycle lookups", () => {
  it("names a refused move in its error, (new) for a job that does not exist yet", () => {
    const refused = (() => {
      try {
        requireTransition(null, "RUNNING", "DELIVERED");
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(InvalidTransition);
    expect((refused as Error).name).toBe("InvalidTransition");
    expect((refused as Error).message).toBe("job cannot move from (new) to RUNNING (DELIVERED)");
    expect(() => requireTransition("DONE", "PENDING", "SUBMITTED")).toThrow("job cannot move from DONE to PENDING (SUBMITTED)");
  });

  it("gives the sources of one target only when a reason leads to several targets", () => {
    // WORKER_LOST moves ASSIGNED → PENDING and RUNNING → FAILED.
    expect(sourcesOf("PENDING", "WORKER_LOST")).toEqual(["ASSIGNED"]);
    expect(sourcesOf("FAILED", "WORKER_LOST")).toEqual(["RUNNING"]);
  });

  it("refuses an event type for a (to, reason) whose rows disagree on it", () => {
    const table = TRANSITIONS as TransitionRule[];
    const conflicting: TransitionRule = { from: "RUNNING", to: "PENDING", reason: "WORKER_LOST", eventType: "job.failed", when: "test row" };
    table.push(conflicting);
    try {
      expect(() => eventTypeOf("PENDING", "WORKER_LOST")).toThrow(InvalidTransition);
    } finally {
      table.splice(table.indexOf(conflicting), 1);
    }
    expect(eventTypeOf("PENDING", "WORKER_LOST")).toBe("job.requeued");
  });

  it("calls DONE and DEAD_LETTERED final, and no other state", () => {
    expect(JOB_STATUSES.filter((s) => isFinalStatus(s))).toEqual(["DONE", "DEAD_LETTERED"]);
    expect([...FINAL_STATUSES].sort()).toEqual(["DEAD_LETTERED", "DONE"]);
  });
});
