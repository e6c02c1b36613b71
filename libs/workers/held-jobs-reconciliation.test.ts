import { describe, expect, it } from "vitest";
import { reconcileHeldJobs, sameDeliveries, type AbsentDelivery, type HeldDelivery } from "./held-jobs-reconciliation.js";

const running = (jobId: string, attempt = 1): HeldDelivery => ({ jobId, attempt, status: "RUNNING" });
const ref = (jobId: string, attempt = 1) => ({ jobId, attempt });
const GRACE = 1000;
const at = (now: number, previouslyAbsent: AbsentDelivery[] = []) => ({ now, graceMs: GRACE, previouslyAbsent, inFlight: [] });

describe("reconcileHeldJobs", () => {
  it("marks a delivery missing, and hands it back only when missing twice in a row and for the grace", () => {
    const held = [running("a"), running("b")];
    const first = reconcileHeldJobs({ ...at(10_000), held, reported: [ref("a")] });
    expect(first).toEqual({ handBack: [], absent: [{ ...ref("b"), since: 10_000 }] });
    const soon = reconcileHeldJobs({ ...at(10_500, first.absent), held, reported: [ref("a")] });
    expect(soon).toEqual({ handBack: [], absent: [{ ...ref("b"), since: 10_000 }] });
    const later = reconcileHeldJobs({ ...at(11_000, soon.absent), held, reported: [ref("a")] });
    expect(later).toEqual({ handBack: [running("b")], absent: [{ ...ref("b"), since: 10_000 }] });
  });

  it("never hands back on a first absence, however long the grace has passed", () => {
    const r = reconcileHeldJobs({ ...at(99_000), held: [running("a")], reported: [] });
    expect(r.handBack).toEqual([]);
  });

  it("forgets an absence when the next heartbeat lists the delivery again", () => {
    const held = [running("a")];
    const first = reconcileHeldJobs({ ...at(0), held, reported: [] });
    const second = reconcileHeldJobs({ ...at(500, first.absent), held, reported: [ref("a")] });
    expect(second).toEqual({ handBack: [], absent: [] });
    const third = reconcileHeldJobs({ ...at(5000, second.absent), held, reported: [] });
    expect(third).toEqual({ handBack: [], absent: [{ ...ref("a"), since: 5000 }] });
  });

  it("never hands back a delivery whose result or mark is in flight", () => {
    const r = reconcileHeldJobs({ ...at(5000, [{ ...ref("a"), since: 0 }]), held: [running("a")], reported: [], inFlight: [ref("a")] });
    expect(r).toEqual({ handBack: [], absent: [] });
  });

  it("keys by attempt: an older attempt's absence does not count against a newer one", () => {
    const r = reconcileHeldJobs({ ...at(5000, [{ ...ref("a", 1), since: 0 }]), held: [running("a", 2)], reported: [ref("a", 1)] });
    expect(r).toEqual({ handBack: [], absent: [{ ...ref("a", 2), since: 5000 }] });
  });

  it("sameDeliveries compares as sets", () => {
    expect(sameDeliveries([ref("a"), ref("b")], [ref("b"), ref("a")])).toBe(true);
    expect(sameDeliveries([ref("a")], [ref("a", 2)])).toBe(false);
    expect(sameDeliveries([], [])).toBe(true);
  });
});
