import { describe, expect, it } from "vitest";
import { reconcileHeldJobs, sameDeliveries, type HeldDelivery } from "./held-jobs-reconciliation.js";

const running = (jobId: string, attempt = 1): HeldDelivery => ({ jobId, attempt, status: "RUNNING" });
const ref = (jobId: string, attempt = 1) => ({ jobId, attempt });

describe("reconcileHeldJobs", () => {
  it("marks a delivery missing once and hands it back only when missing twice in a row", () => {
    const held = [running("a"), running("b")];
    const first = reconcileHeldJobs({ held, reported: [ref("a")], inFlight: [], previouslyAbsent: [] });
    expect(first).toEqual({ handBack: [], absent: [ref("b")] });
    const second = reconcileHeldJobs({ held, reported: [ref("a")], inFlight: [], previouslyAbsent: first.absent });
    expect(second).toEqual({ handBack: [running("b")], absent: [ref("b")] });
  });

  it("forgets an absence when the next heartbeat lists the delivery again", () => {
    const held = [running("a")];
    const first = reconcileHeldJobs({ held, reported: [], inFlight: [], previouslyAbsent: [] });
    const second = reconcileHeldJobs({ held, reported: [ref("a")], inFlight: [], previouslyAbsent: first.absent });
    expect(second).toEqual({ handBack: [], absent: [] });
    const third = reconcileHeldJobs({ held, reported: [], inFlight: [], previouslyAbsent: second.absent });
    expect(third.handBack).toEqual([]);
  });

  it("never hands back a delivery whose result or mark is in flight", () => {
    const held = [running("a")];
    const r = reconcileHeldJobs({ held, reported: [], inFlight: [ref("a")], previouslyAbsent: [ref("a")] });
    expect(r).toEqual({ handBack: [], absent: [] });
  });

  it("keys by attempt: an older attempt's absence does not count against a newer one", () => {
    const r = reconcileHeldJobs({ held: [running("a", 2)], reported: [ref("a", 1)], inFlight: [], previouslyAbsent: [ref("a", 1)] });
    expect(r).toEqual({ handBack: [], absent: [ref("a", 2)] });
  });

  it("sameDeliveries compares as sets", () => {
    expect(sameDeliveries([ref("a"), ref("b")], [ref("b"), ref("a")])).toBe(true);
    expect(sameDeliveries([ref("a")], [ref("a", 2)])).toBe(false);
    expect(sameDeliveries([], [])).toBe(true);
  });
});
