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
});
