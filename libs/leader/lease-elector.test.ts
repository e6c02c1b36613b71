import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger, type Logger } from "../logging/logger.js";
import type { Demotion, DemotionReason } from "./leader-elector.js";
import { leaseTiming, nextRenewalDelay, standbyRetryDelay, type LeaseTiming } from "./lease.js";
import { LeaseElector, type HeldTerm } from "./lease-elector.js";

// The lease rules of LeaseElector on a fake clock (vitest's fake timers drive both its timers and
// the injected clock), against a lock store in memory that answers the way Redis's scripts do:
// the bounds the integration tests can only check with room for a loaded machine, exactly.

/** One lock with an expiry, like the Redis key: `unreachable` makes every command hang. */
class MemoryLock {
  holder: string | undefined;
  expiresAt = 0;
  term = 0n;
  unreachable = false;
  /** When set, every tick waits for it first (a command in flight). */
  gate: Promise<void> | undefined;
  /** When set, every release waits for it first. */
  releaseGate: Promise<void> | undefined;
  /** How many ticks throw before one runs. */
  failingTicks = 0;
  /** When each tick began (fake-clock ms), and how many releases were asked for. */
  readonly ticks: number[] = [];
  releases = 0;

  ttl(now: number): number {
    return this.holder === undefined || now >= this.expiresAt ? -2 : this.expiresAt - now;
  }
}

const silent = createLogger({ app: "lease-test", nodeId: "t", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });

class MemoryElector extends LeaseElector {
  readonly name = "memory-election";

  constructor(
    private readonly lock: MemoryLock,
    nodeId: string,
    timing: LeaseTiming,
    clock: () => number = () => Date.now(),
    log: Logger = silent,
  ) {
    super("test", nodeId, timing, clock, log);
  }

  // The protected term operations, for tests that drive them directly.
  electAt(term: bigint, sentAt: number): HeldTerm | undefined {
    return this.elect(term, `${this.nodeId}:${term}`, sentAt);
  }
  extendAt(held: HeldTerm, sentAt: number): boolean {
    return this.extend(held, sentAt);
  }
  endTerm(held: HeldTerm, reason: DemotionReason): void {
    this.stepDown(held, reason);
  }

  protected async open(): Promise<void> {}
  protected async close(): Promise<void> {}

  protected async tick(held: HeldTerm | undefined): Promise<number> {
    this.lock.ticks.push(Date.now());
    if (this.lock.gate) await this.lock.gate;
    if (this.lock.failingTicks > 0) {
      this.lock.failingTicks--;
      throw new Error("lock store answered garbage");
    }
    const sentAt = this.now();
    if (this.lock.unreachable) return new Promise<number>(() => {});
    if (held) {
      if (this.lock.holder !== held.token || this.lock.ttl(sentAt) < 0) {
        this.stepDown(held, "lock-lost");
        return 0;
      }
      this.lock.expiresAt = sentAt + this.timing.leaseMs;
      if (!this.extend(held, sentAt)) return 0;
      return nextRenewalDelay(held.lastSentAt, this.now(), this.timing);
    }
    const ttl = this.lock.ttl(sentAt);
    if (ttl >= 0) return standbyRetryDelay(ttl, this.timing);
    const term = ++this.lock.term;
    const token = `${this.nodeId}:${term}`;
    this.lock.holder = token;
    this.lock.expiresAt = sentAt + this.timing.leaseMs;
    const elected = this.elect(term, token, sentAt);
    return elected ? nextRenewalDelay(elected.lastSentAt, this.now(), this.timing) : this.timing.renewIntervalMs;
  }

  protected async releaseLock(held: HeldTerm): Promise<void> {
    this.lock.releases++;
    if (this.lock.releaseGate) await this.lock.releaseGate;
    if (this.lock.holder === held.token) this.lock.holder = undefined;
  }
}

const timing = leaseTiming({ leaseMs: 900 }); // renew every 300 ms, give up 90 ms early
const T0 = 1_000_000;

describe("LeaseElector on a fake clock", () => {
  let lock: MemoryLock;
  const electors: MemoryElector[] = [];
  const elector = (nodeId: string) => {
    const e = new MemoryElector(lock, nodeId, timing);
    electors.push(e);
    return e;
  };
  const electedAt = (e: MemoryElector) => {
    const times: number[] = [];
    e.onElected(() => times.push(Date.now()));
    return times;
  };
  const demotionsOf = (e: MemoryElector) => {
    const seen: (Demotion & { at: number })[] = [];
    e.onDemoted((d) => seen.push({ ...d, at: Date.now() }));
    return seen;
  };

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    lock = new MemoryLock();
  });
  afterEach(async () => {
    lock.unreachable = false;
    for (const e of electors.splice(0)) void e.stop();
    await vi.runOnlyPendingTimersAsync();
    vi.useRealTimers();
  });

  it("renews every renew interval, extending the lock by a full lease each time", async () => {
    const a = elector("a");
    await a.start();
    expect(a.currentTerm()).toBe(1n);
    for (let i = 1; i <= 10; i++) {
      await vi.advanceTimersByTimeAsync(timing.renewIntervalMs);
      expect(lock.expiresAt).toBe(T0 + i * timing.renewIntervalMs + timing.leaseMs);
    }
    expect(a.isLeader()).toBe(true);
  });

  it("a leader cut off from its store leads until lease - margin after its last renewal was sent, and is told within 1 ms of it", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs); // one renewal, sent at T0 + 300
    const lastSentAt = T0 + timing.renewIntervalMs;
    expect(lock.expiresAt).toBe(lastSentAt + timing.leaseMs);
    lock.unreachable = true; // the next renewal hangs
    const deadline = lastSentAt + timing.leaseMs - timing.safetyMarginMs;

    await vi.advanceTimersByTimeAsync(deadline - 1 - Date.now());
    expect(a.isLeader()).toBe(true);
    expect(demotions).toEqual([]);
    // Nobody asks: the deadline timer tells the listeners (it fires 1 ms late on purpose, see armDeadline).
    await vi.advanceTimersByTimeAsync(2);
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: deadline + 1 }]);
    expect(a.isLeader()).toBe(false);
    // Before its lock could lapse in the store: no overlap with the next leader.
    expect(deadline).toBeLessThan(lock.expiresAt);
  });

  it("a standby leads within 1 ms of the holder's lock lapsing, however the lapse falls between its retries", async () => {
    for (const lapseIn of [1, 299, 300, 301, 700, 899]) {
      lock = new MemoryLock();
      lock.holder = "dead:7";
      lock.term = 7n;
      lock.expiresAt = Date.now() + lapseIn;
      const lapse = lock.expiresAt;
      const b = elector(`b${lapseIn}`);
      const elected = electedAt(b);
      await b.start();
      await vi.advanceTimersByTimeAsync(timing.leaseMs + timing.renewIntervalMs);
      expect(elected).toHaveLength(1);
      expect({ lapseIn, late: elected[0]! - lapse }).toEqual({ lapseIn, late: expect.toSatisfy((ms: number) => ms === 0 || ms === 1) });
      expect(b.currentTerm()).toBe(8n);
      await b.stop();
    }
  });

  it("a standby whose lock store says nothing of a holder (no ttl) retries every renew interval", async () => {
    const b = elector("b");
    lock.unreachable = false;
    lock.holder = "other:1";
    lock.expiresAt = Number.POSITIVE_INFINITY; // a key without expiry
    const elected = electedAt(b);
    await b.start();
    await vi.advanceTimersByTimeAsync(5 * timing.renewIntervalMs);
    lock.holder = undefined; // freed between two retries
    const freedAt = Date.now();
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs);
    expect(elected).toHaveLength(1);
    expect(elected[0]! - freedAt).toBeLessThanOrEqual(timing.renewIntervalMs);
  });

  it("after losing a term, a node lets the standbys try first for one lease", async () => {
    const a = elector("a");
    const elected = electedAt(a);
    await a.start();
    lock.holder = "intruder:9"; // taken from under it, then freed at once
    lock.term = 9n;
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs); // the renewal finds the lock lost
    const lostAt = Date.now();
    expect(a.isLeader()).toBe(false);
    lock.holder = undefined;
    await vi.advanceTimersByTimeAsync(timing.leaseMs - 1);
    expect(elected).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(elected).toEqual([T0, lostAt + timing.leaseMs]);
  });

  // The term state, the listeners and the loop, one rule at a time.

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
    const e = new MemoryElector(lock, nodeId, timing, clock, log);
    electors.push(e);
    return e;
  };

  it("start() after stop() rejects naming the elector, and runs no tick", async () => {
    const a = elector("a");
    await a.start();
    await a.stop();
    const ticks = lock.ticks.length;
    await expect(a.start()).rejects.toThrow("memory-election was stopped; create a new elector");
    await vi.advanceTimersByTimeAsync(3 * timing.renewIntervalMs);
    expect(lock.ticks).toHaveLength(ticks);
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
    lock.holder = "intruder:9";
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
    lock.unreachable = true; // the first renewal hangs
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
    lock.unreachable = true;
    await vi.advanceTimersByTimeAsync(span + 1); // nobody asks: the timer fires 1 ms late on purpose
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: T0 + span + 1 }]);
    expect(lock.releases).toBe(1);
    expect(lock.holder).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0); // the timer is not re-armed for a term that ended (the tick still hangs)
  });

  it("a lost lock is not released by the node that lost it, and its deadline timer is cleared", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    lock.holder = "intruder:9";
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs);
    expect(demotions).toEqual([{ term: 1n, reason: "lock-lost", at: T0 + timing.renewIntervalMs }]);
    expect(lock.releases).toBe(0);
    expect(lock.holder).toBe("intruder:9");
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
    expect(lock.expiresAt).toBe(T0 + 3 * timing.renewIntervalMs + timing.leaseMs); // still renewing
    await a.stop();
    expect(elected).toEqual([T0]);
    expect(demotions).toEqual([{ term: 1n, reason: "stopped", at: Date.now() }]);
    expect(lines.filter((l) => l.msg === "leadership listener threw").map((l) => l.err)).toEqual(["elected listener failed", "demoted listener failed"]);
  });

  it("a tick that throws is logged and retried after one renew interval", async () => {
    const { lines, log } = capturedLog();
    const a = loggedElector("a", log);
    lock.failingTicks = 2;
    await a.start();
    await vi.advanceTimersByTimeAsync(2 * timing.renewIntervalMs);
    expect(lock.ticks).toEqual([T0, T0 + timing.renewIntervalMs, T0 + 2 * timing.renewIntervalMs]);
    expect(a.currentTerm()).toBe(1n);
    expect(lines.filter((l) => l.msg === "leader election round failed")).toHaveLength(2);
  });

  it("stop() waits for the running tick, and no tick runs after it", async () => {
    const a = elector("a");
    await a.start();
    const tick = gate();
    lock.gate = tick.closed;
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs); // the renewal waits on its command
    let stopped = false;
    const stopping = a.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    lock.gate = undefined;
    tick.open();
    await stopping;
    await vi.advanceTimersByTimeAsync(5 * timing.renewIntervalMs);
    expect(lock.ticks).toEqual([T0, T0 + timing.renewIntervalMs]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stop() of an idle loop cancels its next tick, a leader's and a standby's", async () => {
    const a = elector("a");
    await a.start();
    await a.stop();
    expect(vi.getTimerCount()).toBe(0); // a leader's next tick would only sit out its hold-off
    lock.holder = "other:1"; // a standby retries every renew interval
    lock.expiresAt = Number.POSITIVE_INFINITY;
    const b = elector("b");
    await b.start();
    await b.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5 * timing.renewIntervalMs);
    expect(lock.ticks).toEqual([T0, T0]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stop() waits for the background release of a lapsed term", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    const tick = gate();
    const release = gate();
    lock.gate = tick.closed; // the renewal hangs until the test lets it go
    lock.releaseGate = release.closed;
    await vi.advanceTimersByTimeAsync(span + 1);
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: T0 + span + 1 }]);
    expect(lock.releases).toBe(1);
    let stopped = false;
    const stopping = a.stop().then(() => (stopped = true));
    lock.gate = undefined;
    tick.open();
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    expect(lock.holder).toBe("a:1");
    release.open();
    await stopping;
    expect(lock.holder).toBeUndefined();
    expect(lock.releases).toBe(1);
  });

  it("stop() ends the term, waits for its release, and is idempotent: one promise, one demotion, one release", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    const release = gate();
    lock.releaseGate = release.closed;
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
    expect(lock.releases).toBe(1);
    expect(lock.holder).toBeUndefined();
  });
});
