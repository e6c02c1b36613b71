import { describe, expect, it, vi } from "vitest";
import { MemoryLock, T0, timing, useMemoryElection } from "../../test/support/memory-lease.js";

// The lease rules of LeaseElector on a fake clock, exactly: the bounds the integration tests can
// only check with room for a loaded machine. The term state, listeners and loop are in
// lease-elector-lifecycle.test.ts.

describe("LeaseElector on a fake clock", () => {
  const bed = useMemoryElection();
  const { elector, electedAt, demotionsOf } = bed;

  it("renews every renew interval, extending the lock by a full lease each time", async () => {
    const a = elector("a");
    await a.start();
    expect(a.currentTerm()).toBe(1n);
    for (let i = 1; i <= 10; i++) {
      await vi.advanceTimersByTimeAsync(timing.renewIntervalMs);
      expect(bed.lock.expiresAt).toBe(T0 + i * timing.renewIntervalMs + timing.leaseMs);
    }
    expect(a.isLeader()).toBe(true);
  });

  it("a leader cut off from its store leads until lease - margin after its last renewal was sent, and is told within 1 ms of it", async () => {
    const a = elector("a");
    const demotions = demotionsOf(a);
    await a.start();
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs); // one renewal, sent at T0 + 300
    const lastSentAt = T0 + timing.renewIntervalMs;
    expect(bed.lock.expiresAt).toBe(lastSentAt + timing.leaseMs);
    bed.lock.unreachable = true; // the next renewal hangs
    const deadline = lastSentAt + timing.leaseMs - timing.safetyMarginMs;

    await vi.advanceTimersByTimeAsync(deadline - 1 - Date.now());
    expect(a.isLeader()).toBe(true);
    expect(demotions).toEqual([]);
    // Nobody asks: the deadline timer tells the listeners (it fires 1 ms late on purpose, see armDeadline).
    await vi.advanceTimersByTimeAsync(2);
    expect(demotions).toEqual([{ term: 1n, reason: "lease-expired", at: deadline + 1 }]);
    expect(a.isLeader()).toBe(false);
    // Before its lock could lapse in the store: no overlap with the next leader.
    expect(deadline).toBeLessThan(bed.lock.expiresAt);
  });

  it("a standby leads within 1 ms of the holder's lock lapsing, however the lapse falls between its retries", async () => {
    for (const lapseIn of [1, 299, 300, 301, 700, 899]) {
      bed.lock = new MemoryLock();
      bed.lock.holder = "dead:7";
      bed.lock.term = 7n;
      bed.lock.expiresAt = Date.now() + lapseIn;
      const lapse = bed.lock.expiresAt;
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
    bed.lock.unreachable = false;
    bed.lock.holder = "other:1";
    bed.lock.expiresAt = Number.POSITIVE_INFINITY; // a key without expiry
    const elected = electedAt(b);
    await b.start();
    await vi.advanceTimersByTimeAsync(5 * timing.renewIntervalMs);
    bed.lock.holder = undefined; // freed between two retries
    const freedAt = Date.now();
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs);
    expect(elected).toHaveLength(1);
    expect(elected[0]! - freedAt).toBeLessThanOrEqual(timing.renewIntervalMs);
  });

  it("after losing a term, a node lets the standbys try first for one lease", async () => {
    const a = elector("a");
    const elected = electedAt(a);
    await a.start();
    bed.lock.holder = "intruder:9"; // taken from under it, then freed at once
    bed.lock.term = 9n;
    await vi.advanceTimersByTimeAsync(timing.renewIntervalMs); // the renewal finds the lock lost
    const lostAt = Date.now();
    expect(a.isLeader()).toBe(false);
    bed.lock.holder = undefined;
    await vi.advanceTimersByTimeAsync(timing.leaseMs - 1);
    expect(elected).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(elected).toEqual([T0, lostAt + timing.leaseMs]);
  });
});
