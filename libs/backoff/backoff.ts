/**
 * The one backoff formula in jq: capped exponential, `min(baseMs · 2^attempt, maxMs)` milliseconds,
 * plus jitter (SPEC §3). Every wait-before-trying-again uses it: job retries (SPEC's formula), the
 * outbox relay, the LISTEN connection, the client's unary retries, the worker SDK's reconnects and
 * jqctl's WatchJob reconnects. They differ only in their policy.
 *
 * `random` returns a number in [0, 1); it is injected so tests can pin it.
 */
export interface BackoffPolicy {
  /** The first delay (attempt 0), and for "up-to-base" jitter the width of the jitter. */
  readonly baseMs: number;
  /** Cap of the exponential part. */
  readonly maxMs: number;
  readonly jitter: BackoffJitter;
}

/**
 * - "up-to-base": SPEC's `+ jitter(0..base)`, whole milliseconds in [0, baseMs). Spreads a burst of
 *   failed jobs so their retries do not land on the same instant.
 * - "equal": half the capped delay fixed and half random, rounded ("equal jitter"): a fleet that
 *   lost the same server does not come back in lockstep, and no delay is zero.
 * - "none": the capped delay itself, for a single caller with no herd to spread (the leader's relay,
 *   one LISTEN connection, one CLI watch).
 */
export type BackoffJitter = "up-to-base" | "equal" | "none";

/** Delay before try number `attempt + 1`, where `attempt` (0, 1, …) counts the failures before it. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  // 2^attempt overflows to Infinity for large counts; Math.min caps it before it matters.
  const capped = Math.min(policy.baseMs * 2 ** attempt, policy.maxMs);
  switch (policy.jitter) {
    case "up-to-base":
      return capped + Math.floor(random() * policy.baseMs);
    case "equal":
      return Math.round(capped / 2 + (random() * capped) / 2);
    case "none":
      return capped;
  }
}
