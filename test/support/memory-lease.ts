import { Writable } from "node:stream";
import { afterEach, beforeEach, vi } from "vitest";
import { createLogger, type Logger } from "../../libs/logging/logger.js";
import type { Demotion, DemotionReason } from "../../libs/leader/leader-elector.js";
import { leaseTiming, nextRenewalDelay, standbyRetryDelay, type LeaseTiming } from "../../libs/leader/lease.js";
import { LeaseElector, type HeldTerm } from "../../libs/leader/lease-elector.js";

// LeaseElector on a fake clock (vitest's fake timers drive both its timers and the injected
// clock), against a lock store in memory that answers the way Redis's scripts do: the unit tests
// of libs/leader/lease-elector*.test.ts. (Here, not in libs/, so mutation testing leaves it alone.)

/** One lock with an expiry, like the Redis key: `unreachable` makes every command hang. */
export class MemoryLock {
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

export const silent = createLogger({ app: "lease-test", nodeId: "t", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });

export class MemoryElector extends LeaseElector {
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

export const timing = leaseTiming({ leaseMs: 900 }); // renew every 300 ms, give up 90 ms early
export const T0 = 1_000_000;

/** The set-up both files share: a fresh lock and fake clock per test, every elector stopped after it. */
export function useMemoryElection() {
  let lock = new MemoryLock();
  const electors: MemoryElector[] = [];
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
  return {
    get lock(): MemoryLock {
      return lock;
    },
    set lock(next: MemoryLock) {
      lock = next;
    },
    electors,
    elector(nodeId: string): MemoryElector {
      const e = new MemoryElector(lock, nodeId, timing);
      electors.push(e);
      return e;
    },
    electedAt(e: MemoryElector): number[] {
      const times: number[] = [];
      e.onElected(() => times.push(Date.now()));
      return times;
    },
    demotionsOf(e: MemoryElector): (Demotion & { at: number })[] {
      const seen: (Demotion & { at: number })[] = [];
      e.onDemoted((d) => seen.push({ ...d, at: Date.now() }));
      return seen;
    },
  };
}
