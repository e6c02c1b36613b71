import { describe, expect, it, vi } from "vitest";
import { createLogger, type Logger } from "../logging/logger.js";
import { MemoryElector, silent, T0, timing, useMemoryElection } from "../../test/support/memory-lease.js";

// The term state, the listeners and the loop of LeaseElector, one rule at a time, on a fake clock
// against the in-memory lock store (the lease bounds are in lease-elector.test.ts).

describe("LeaseElector's terms, listeners and loop", () => {
  const bed = useMemoryElection();
  const { elector, electedAt, demotionsOf, electors } = bed;

  const span = timing.leaseMs - timing.safetyMarginMs; // from a command's sending to its term's deadline
  const gate = () => {
    let open!: () => void;
    const closed = new Promise<void>((resolve) => (open = resolve));
    return { closed, open };
  };
  const capturedLog = () => {
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
    const log = createLogger({ app: "lease-test", nodeId: "t", level: "info", destination: destination as unknown as NodeJS.WritableStream });
    return { lines, log };
  };
  const loggedElector = (nodeId: string, log: Logger, clock: () => number = () => Date.now()) => {
    const e = new MemoryElector(bed.lock, nodeId, timing, clock, log);
    electors.push(e);
    return e;
  };

  it("start() after stop() rejects naming the elector, and runs no tick", async () => {
    const a = elector("a");
    await a.start();
    await a.stop();
    const ticks = bed.lock.ticks.length;
    await expect(a.start()).rejects.toThrow("memory-election was stopped; create a new elector");
    await vi.advanceTimersByTimeAsync(3 * timing.renewIntervalMs);
    expect(bed.lock.ticks).toHaveLength(ticks);
  });

  it("currentTerm(), status() and fence() say nothing is held when not leading, and name the term when leading", async () => {
    const a = elector("a");
    expect(a.currentTerm()).toBeUndefined();
    expect(a.status()).toEqual({ leader: false, term: undefined });
    expect(a.fence()).toBeUndefined();
    await a.start();
    expect(a.currentTerm()).toBe(1n);
    expect(a.status()).toEqual({ leader: true, term: 1n });
    expect(a.fence()).toMatchObject({ name: "test", term: 1n, nodeId: "a" });
  });

  it("a fence's stillLeader() turns false and its signal aborts with the reason when its term ends", async () => {
    const a = elector("a");
    await a.start();
    const fence = a.fence()!;
    expect(fence.stillLeader()).toBe(true);
    expect(fence.signal.aborted).toBe(false);
    bed.lock.holder = "intruder:9";
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs); // the renewal finds the lock lost
    expect(fence.stillLeader()).toBe(false);
    expect(fence.signal.aborted).toBe(true);
    expect((fence.signal.reason as Error).message).toBe("leadership ended: lock-lost");
  });

  it("the functions returned by onElected and onDemoted unsubscribe their listener", async () => {
    const a = elector("a");
    const unsubscribed: string[] = [];
    a.onElected(() => unsubscribed.push("elected"))();
    a.onDemoted(() => unsubscribed.push("demoted"))();
    const elected = electedAt(a);
    const demotions = demotionsOf(a);
    await a.start();
    await a.stop();
    expect(elected).toEqual([T0]);
    expect(demotions).toEqual([{ term: 1n, reason: "stopped", at: T0 }]);
    expect(unsubscribed).toEqual([]);
  });

  it("a term leads 1 ms before its deadline and not at it, as soon as a reader looks (before the deadline timer)", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    bed.lock.unreachable = true; // the first renewal hangs
    await vi.advanceTimersByTimeAsync(span - 1);
    expect(a.isLeader()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.isLeader()).toBe(false);
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: T0 + span }]);
  });

  it("the deadline timer armed at election demotes on time while the first renewal hangs, and releases the lapsed lock", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    bed.lock.unreachable = true;
    await vi.advanceTimersByTimeAsync(span + 1); // nobody asks: the timer fires 1 ms late on purpose
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: T0 + span + 1 }]);
    expect(bed.lock.releases).toBe(1);
    expect(bed.lock.holder).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0); // the timer is not re-armed for a term that ended (the tick still hangs)
  });

  it("a lost lock is not released by the node that lost it, and its deadline timer is cleared", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    bed.lock.holder = "intruder:9";
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs);
    expect(demotions).toEqual([{ term: 1n, reason: "lock-lost", at: T0 + timing.renewIntervalMs }]);
    expect(bed.lock.releases).toBe(0);
    expect(bed.lock.holder).toBe("intruder:9");
    expect(vi.getTimerCount()).toBe(1); // the loop's hold-off only
  });

  it("each renewal re-arms the one deadline timer rather than adding one", async () => {
    const a = elector("a");
    await a.start();
    await vi.advanceTimersByTimeAsync(10 * timing.renewIntervalMs);
    expect(a.isLeader()).toBe(true);
    expect(vi.getTimerCount()).toBe(2); // the loop's next renewal and the deadline
  });

  it("extend() moves the deadline timer to the new deadline, an earlier one too", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    const held = a.electAt(1n, T0)!;
    expect(a.extendAt(held, T0 - 100)).toBe(true);
    await vi.advanceTimersByTimeAsync(span - 100);
    expect(demotions).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: T0 + span - 100 + 1 }]);
  });

  it("the deadline timer re-arms itself when it fires before the elector's clock reaches the deadline", async () => {
    let clock = T0; // the elector's clock, moved by hand; its timers run on the fake timers
    const a = loggedElector("a", silent, () => clock);
    const demotions = demotionsOf(a);
    a.electAt(1n, T0);
    clock = T0 + 500;
    await vi.advanceTimersByTimeAsync(span + 1); // fires with 310 ms left on the elector's clock
    expect(demotions).toEqual([]);
    clock = T0 + span;
    await vi.advanceTimersByTimeAsync(span - 500);
    expect(demotions).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: T0 + 2 * span + 1 - 500 + 1 }]);
  });

  it("extend() of a term that ended returns false and leaves it ended", () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    const held = a.electAt(1n, T0)!;
    a.endTerm(held, "lock-lost");
    expect(a.extendAt(held, T0)).toBe(false);
    expect(a.isLeader()).toBe(false);
    expect(demotions).toHaveLength(1);
  });

  it("elect() refuses a term whose deadline is now or past, and any term once stopped", async () => {
    const a = elector("a");
    const elected = electedAt(a);
    expect(a.electAt(1n, T0 - span)).toBeUndefined();
    expect(a.electAt(2n, T0 - span - 1)).toBeUndefined();
    expect(a.isLeader()).toBe(false);
    expect(a.electAt(3n, T0 - span + 1)?.term).toBe(3n); // 1 ms left
    expect(elected).toEqual([T0]);
    const b = elector("b");
    await b.stop();
    expect(b.electAt(1n, Date.now())).toBeUndefined();
    expect(b.isLeader()).toBe(false);
  });

  it("a term steps down once: a second stepDown of it, or one of an old term, changes nothing", () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    const first = a.electAt(1n, T0)!;
    a.endTerm(first, "lock-lost");
    a.endTerm(first, "lock-lost");
    expect(demotions).toEqual([{ term: 1n, reason: "lock-lost", at: T0 }]);
    a.electAt(2n, T0);
    a.endTerm(first, "connection-lost");
    expect(a.currentTerm()).toBe(2n);
    expect(demotions).toHaveLength(1);
  });

  it("stepping down is logged at info when stopped and at warn otherwise, with the election, term and reason", async () => {
    const { lines, log } = capturedLog();
    const a = loggedElector("a", log);
    a.endTerm(a.electAt(1n, T0)!, "lock-lost");
    a.electAt(2n, T0);
    await a.stop();
    const steppedDown = lines.filter((l) => l.msg === "stepped down").map(({ level, election, term, reason }) => ({ level, election, term, reason }));
    expect(steppedDown).toEqual([
      { level: "warn", election: "test", term: "1", reason: "lock-lost" },
      { level: "info", election: "test", term: "2", reason: "stopped" },
    ]);
  });

  it("a listener that throws is logged and keeps neither the other listeners nor the loop from running", async () => {
    const { lines, log } = capturedLog();
    const a = loggedElector("a", log);
    a.onElected(() => {
      throw new Error("elected listener failed");
    });
    a.onDemoted(() => {
      throw new Error("demoted listener failed");
    });
    const elected = electedAt(a);
    const demotions = demotionsOf(a);
    await a.start();
    await vi.advanceTimersByTimeAsync(3 * timing.renewIntervalMs);
    expect(bed.lock.expiresAt).toBe(T0 + 3 * timing.renewIntervalMs + timing.leaseMs); // still renewing
    await a.stop();
    expect(elected).toEqual([T0]);
    expect(demotions).toEqual([{ term: 1n, reason: "stopped", at: Date.now() }]);
    expect(lines.filter((l) => l.msg === "leadership listener threw").map((l) => l.err)).toEqual(["elected listener failed", "demoted listener failed"]);
  });

  it("a tick that throws is logged and retried after one renew interval", async () => {
    const { lines, log } = capturedLog();
    const a = loggedElector("a", log);
    bed.lock.failingTicks = 2;
    await a.start();
    await vi.advanceTimersByTimeAsync(2 * timing.renewIntervalMs);
    expect(bed.lock.ticks).toEqual([T0, T0 + timing.renewIntervalMs, T0 + 2 * timing.renewIntervalMs]);
    expect(a.currentTerm()).toBe(1n);
    expect(lines.filter((l) => l.msg === "leader election round failed")).toHaveLength(2);
  });

  it("stop() waits for the running tick, and no tick runs after it", async () => {
    const a = elector("a");
    await a.start();
    const tick = gate();
    bed.lock.gate = tick.closed;
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs); // the renewal waits on its command
    let stopped = false;
    const stopping = a.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    bed.lock.gate = undefined;
    tick.open();
    await stopping;
    await vi.advanceTimersByTimeAsync(5 * timing.renewIntervalMs);
    expect(bed.lock.ticks).toEqual([T0, T0 + timing.renewIntervalMs]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stop() of an idle loop cancels its next tick, a leader's and a standby's", async () => {
    const a = elector("a");
    await a.start();
    await a.stop();
    expect(vi.getTimerCount()).toBe(0); // a leader's next tick would only sit out its hold-off
    bed.lock.holder = "other:1"; // a standby retries every renew interval
    bed.lock.expiresAt = Number.POSITIVE_INFINITY;
    const b = elector("b");
    await b.start();
    await b.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5 * timing.renewIntervalMs);
    expect(bed.lock.ticks).toEqual([T0, T0]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stop() waits for the background release of a lapsed term", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    const tick = gate();
    const release = gate();
    bed.lock.gate = tick.closed; // the renewal hangs until the test lets it go
    bed.lock.releaseGate = release.closed;
    await vi.advanceTimersByTimeAsync(span + 1);
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: T0 + span + 1 }]);
    expect(bed.lock.releases).toBe(1);
    let stopped = false;
    const stopping = a.stop().then(() => (stopped = true));
    bed.lock.gate = undefined;
    tick.open();
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    expect(bed.lock.holder).toBe("a:1");
    release.open();
    await stopping;
    expect(bed.lock.holder).toBeUndefined();
    expect(bed.lock.releases).toBe(1);
  });

  it("stop() ends the term, waits for its release, and is idempotent: one promise, one demotion, one release", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    const release = gate();
    bed.lock.releaseGate = release.closed;
    let stopped = false;
    const first = a.stop();
    void first.then(() => (stopped = true));
    expect(a.stop()).toBe(first);
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    expect(a.isLeader()).toBe(false);
    release.open();
    await first;
    await a.stop();
    expect(demotions).toEqual([{ term: 1n, reason: "stopped", at: T0 }]);
    expect(bed.lock.releases).toBe(1);
    expect(bed.lock.holder).toBeUndefined();
  });
});
