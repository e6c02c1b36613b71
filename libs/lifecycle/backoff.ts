/**
 * Retry backoff of SPEC §3: `min(base · 2^retryCount, max) + jitter(0..base)` milliseconds.
 * The jitter spreads a burst of failures so their retries do not land on the same instant.
 * `random` returns a number in [0, 1); it is injected so tests can pin it.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

export function retryDelayMs(retryCount: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (!Number.isInteger(retryCount) || retryCount < 0) throw new RangeError(`retryCount must be a non-negative integer, got ${retryCount}`);
  // 2^retryCount overflows to Infinity for large counts; Math.min caps it before it matters.
  const exponential = Math.min(policy.baseMs * 2 ** retryCount, policy.maxMs);
  const jitter = Math.floor(random() * policy.baseMs);
  return exponential + jitter;
}

/** The `not_before` of a job whose retry is scheduled at `now`. */
export function retryNotBefore(now: Date, retryCount: number, policy: BackoffPolicy, random?: () => number): Date {
  return new Date(now.getTime() + retryDelayMs(retryCount, policy, random));
}
