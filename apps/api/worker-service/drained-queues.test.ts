import { describe, expect, it } from "vitest";
import { DrainedQueues } from "./drained-queues.js";

describe("DrainedQueues", () => {
  it("treats a queue it knows nothing about as claimable", () => {
    expect(new DrainedQueues().claimable(["a", "b"]).queues).toEqual(["a", "b"]);
  });

  it("skips a queue a short claim emptied until it is woken", () => {
    const d = new DrainedQueues();
    d.drained(d.claimable(["a", "b"]), new Set());
    expect(d.claimable(["a", "b"]).queues).toEqual([]);
    d.wake("b");
    expect(d.claimable(["a", "b"]).queues).toEqual(["b"]);
  });

  it("keeps a queue claimable when it was woken while the short claim ran", () => {
    const d = new DrainedQueues();
    const seen = d.claimable(["a"]);
    d.wake("a"); // a submit committed after the claim's snapshot
    d.drained(seen, new Set());
    expect(d.claimable(["a"]).queues).toEqual(["a"]);
  });

  it("answers for a wake-up once a claim that started after it came back short, whatever woke since", () => {
    const d = new DrainedQueues();
    const mine = d.wake("a");
    const scope = d.claimable(["a"]); // the refill my wake-up asked for
    const later = d.wake("a"); // another submit, while that claim runs
    d.drained(scope, new Set());
    expect(d.drainedSince("a", mine)).toBe(true);
    expect(d.drainedSince("a", later)).toBe(false); // its jobs may have committed after the claim began
    expect(d.isDrained("a")).toBe(false);
  });

  it("keeps the newest mark when an older short claim ends last", () => {
    const d = new DrainedQueues();
    d.wake("a");
    const older = d.claimable(["a"]);
    const second = d.wake("a");
    d.drained(d.claimable(["a"]), new Set());
    d.drained(older, new Set());
    expect(d.drainedSince("a", second)).toBe(true);
    expect(d.isDrained("a")).toBe(true);
  });

  it("never marks a limited queue: its claim may have been short because of the limit", () => {
    const d = new DrainedQueues();
    d.drained(d.claimable(["limited", "open"]), new Set(["limited"]));
    expect(d.claimable(["limited", "open"]).queues).toEqual(["limited"]);
  });

  it("ignores a short claim that started before the last sweep", () => {
    const d = new DrainedQueues();
    const scope = d.claimable(["a"]);
    d.forget(); // e.g. a delayed job came due; the sweep's own claim waits behind this one
    d.drained(scope, new Set());
    expect(d.claimable(["a"]).queues).toEqual(["a"]);
  });

  it("forgets every mark on a sweep", () => {
    const d = new DrainedQueues();
    d.wake("a");
    d.drained(d.claimable(["a", "b"]), new Set());
    d.forget();
    expect(d.claimable(["a", "b"]).queues).toEqual(["a", "b"]);
  });

  describe("backlog (whether a submit's job is offered a slot)", () => {
    it("knows of none before any claim, or after a sweep", () => {
      const d = new DrainedQueues();
      expect(d.isBacklogged("a")).toBe(false);
      d.full(d.claimable(["a"]));
      d.forget();
      expect(d.isBacklogged("a")).toBe(false);
    });

    it("is marked by a full claim and lifted by the next short one", () => {
      const d = new DrainedQueues();
      d.full(d.claimable(["a", "b"]));
      expect([d.isBacklogged("a"), d.isBacklogged("b")]).toEqual([true, true]);
      d.drained(d.claimable(["a"]), new Set());
      expect([d.isBacklogged("a"), d.isBacklogged("b")]).toEqual([false, true]);
    });

    it("is not lifted by a wake-up: only a claim says whether older jobs wait", () => {
      const d = new DrainedQueues();
      d.full(d.claimable(["a"]));
      d.wake("a");
      expect(d.isBacklogged("a")).toBe(true);
    });

    it("follows the claim that started last, whichever ends last", () => {
      const d = new DrainedQueues();
      const older = d.claimable(["a"]);
      const newer = d.claimable(["a"]);
      d.drained(newer, new Set());
      d.full(older);
      expect(d.isBacklogged("a")).toBe(false);
      d.wake("a");
      const next = d.claimable(["a"]);
      d.full(next);
      expect(d.isBacklogged("a")).toBe(true);
    });

    it("ignores a claim that started before the last sweep", () => {
      const d = new DrainedQueues();
      const scope = d.claimable(["a"]);
      d.forget();
      d.full(scope);
      expect(d.isBacklogged("a")).toBe(false);
    });
  });
});
