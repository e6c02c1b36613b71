/**
 * Reconnect backoff: capped exponential with "equal jitter" (half the delay fixed, half random),
 * so a fleet of workers that lost the same replica does not come back in lockstep and no delay is
 * zero. Time and randomness are injected so tests can pin them.
 */
export interface ReconnectPolicy {
  /** Ceiling of the first delay; each failure in a row doubles it. */
  readonly initialDelayMs: number;
  /** Largest ceiling. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { initialDelayMs: 100, maxDelayMs: 5_000 };

/** Delay before the reconnect that follows `failures` failed ones in a row (0 for the first). */
export function reconnectDelayMs(failures: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  if (!Number.isInteger(failures) || failures < 0) throw new RangeError(`failures must be a non-negative integer, got ${failures}`);
  // 2^failures overflows to Infinity for long outages; Math.min caps it first.
  const ceiling = Math.min(policy.initialDelayMs * 2 ** failures, policy.maxDelayMs);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Counts failures in a row. A connection that stayed up for at least `maxDelayMs` was healthy, so
 * the next loss starts again from the initial delay; one that drops at once (a server refusing
 * or replacing the stream) keeps climbing, which stops a hot reconnect loop.
 */
export class ReconnectBackoff {
  private failures = 0;
  private upSince: number | undefined;

  constructor(
    private readonly policy: ReconnectPolicy = DEFAULT_RECONNECT_POLICY,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** The streams are open again. */
  connected(): void {
    this.upSince = this.now();
  }

  /** The streams were lost: how long to wait before the next attempt. */
  nextDelayMs(): number {
    if (this.upSince !== undefined && this.now() - this.upSince >= this.policy.maxDelayMs) this.failures = 0;
    this.upSince = undefined;
    return reconnectDelayMs(this.failures++, this.policy, this.random);
  }
}
