import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../logging/logger.js";
import type { Demotion } from "./leader-elector.js";
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
  ) {
    super("test", nodeId, timing, () => Date.now(), silent);
  }

  protected async open(): Promise<void> {}
  protected async close(): Promise<void> {}

  protected async tick(held: HeldTerm | undefined): Promise<number> {
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
});
