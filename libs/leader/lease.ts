/**
 * Lease arithmetic shared by both electors. Every decision is made on a monotonic clock that the
 * caller may inject, from the moment a successful acquire/renew command was *sent*: the lock
 * store set its expiry at or after that moment, so `sentAt + lease` never lies past the real
 * expiry (up to clock-rate drift, which the safety margin covers).
 */
export interface LeaseTiming {
  /** How long the lock lives without renewal (Redis PX; Postgres: the session's idle timeout). */
  readonly leaseMs: number;
  /** Renewal period of the leader and acquisition period of standbys. */
  readonly renewIntervalMs: number;
  /** The leader gives up this long before the lease could have passed. */
  readonly safetyMarginMs: number;
}

export interface LeaseTimingOptions {
  readonly leaseMs: number;
  readonly renewIntervalMs?: number;
  readonly safetyMarginMs?: number;
}

/** Monotonic milliseconds. `performance.now()` by default; tests inject their own. */
export type MonotonicClock = () => number;

export const monotonicNow: MonotonicClock = () => performance.now();

/** Defaults: renew every lease/3, give up lease/10 (at least 1 ms) early. */
export function leaseTiming(options: LeaseTimingOptions): LeaseTiming {
  const { leaseMs } = options;
  if (!Number.isInteger(leaseMs) || leaseMs < 30) throw new RangeError(`leaseMs must be an integer ≥ 30, got ${leaseMs}`);
  const renewIntervalMs = options.renewIntervalMs ?? Math.floor(leaseMs / 3);
  const safetyMarginMs = options.safetyMarginMs ?? Math.max(1, Math.floor(leaseMs / 10));
  if (!(safetyMarginMs >= 0 && safetyMarginMs < leaseMs)) {
    throw new RangeError(`safetyMarginMs must be in [0, leaseMs), got ${safetyMarginMs}`);
  }
  // At least one renewal must fit before the leader gives up, or every term would lapse.
  if (!(renewIntervalMs >= 1 && renewIntervalMs < leaseMs - safetyMarginMs)) {
    throw new RangeError(`renewIntervalMs must be in [1, leaseMs - safetyMarginMs), got ${renewIntervalMs}`);
  }
  return Object.freeze({ leaseMs, renewIntervalMs, safetyMarginMs });
}

/** The last moment a term may act, given when its latest successful acquire/renew was sent. */
export function leadershipDeadline(sentAt: number, timing: LeaseTiming): number {
  return sentAt + timing.leaseMs - timing.safetyMarginMs;
}

/** Delay before the next renewal, counted from the last successful one (never negative). */
export function nextRenewalDelay(lastSentAt: number, now: number, timing: LeaseTiming): number {
  return Math.max(0, lastSentAt + timing.renewIntervalMs - now);
}

/**
 * Delay before a standby tries again, given the time to live the lock store reported for the
 * current holder's lock: just after it expires if that is sooner than the usual period, so a
 * standby takes over within one lease of the leader's last renewal. A ttl < 0 (no expiry, no
 * key) gives the usual period.
 */
export function standbyRetryDelay(holderTtlMs: number, timing: LeaseTiming): number {
  if (holderTtlMs < 0) return timing.renewIntervalMs;
  return Math.min(timing.renewIntervalMs, holderTtlMs + 1);
}
