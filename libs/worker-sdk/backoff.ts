import { backoffDelayMs, type BackoffPolicy } from "../backoff/index.js";

/**
 * Reconnect backoff: the shared formula (libs/backoff) with "equal jitter" (half the delay fixed,
 * half random), so a fleet of workers that lost the same replica does not come back in lockstep
 * and no delay is zero. Time and randomness are injected so tests can pin them.
 *
 * `ReconnectPolicy` is the SDK's public option (`Worker({ reconnect })`); its names are kept for
 * the SDK's users and mapped onto a BackoffPolicy here.
 */
export interface ReconnectPolicy {
  /** Ceiling of the first delay; each failure in a row doubles it. */
  readonly initialDelayMs: number;
  /** Largest ceiling. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { initialDelayMs: 100, maxDelayMs: 5_000 };

/** The BackoffPolicy of a reconnect option. */
export function reconnectBackoff(policy: ReconnectPolicy): BackoffPolicy {
  return { baseMs: policy.initialDelayMs, maxMs: policy.maxDelayMs, jitter: "equal" };
}

/**
 * Counts failures in a row. A connection that stayed up for at least `maxDelayMs` was healthy, so
 * the next loss starts again from the initial delay; one that drops at once (a server refusing
 * or replacing the stream) keeps climbing, which stops a hot reconnect loop.
 */
export class ReconnectBackoff {
  private failures = 0;
  private upSince: number | undefined;
  private readonly backoff: BackoffPolicy;

  constructor(
    private readonly policy: ReconnectPolicy = DEFAULT_RECONNECT_POLICY,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.backoff = reconnectBackoff(policy);
  }

  /** The streams are open again. */
  connected(): void {
    this.upSince = this.now();
  }

  /** The streams were lost: how long to wait before the next attempt. */
  nextDelayMs(): number {
    if (this.upSince !== undefined && this.now() - this.upSince >= this.policy.maxDelayMs) this.failures = 0;
    this.upSince = undefined;
    return backoffDelayMs(this.failures++, this.backoff, this.random);
  }
}
