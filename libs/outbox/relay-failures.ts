import type { BackoffPolicy } from "../backoff/index.js";
import type { Logger } from "../logging/logger.js";

/**
 * Wait between failed relay rounds: 100 ms after the first, doubling to 5 s. No jitter: only the
 * leader relays, so there is no herd to spread out.
 */
export const RELAY_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: "none" };

/** Which part of a relay round failed. */
export type RelayStep = "read" | "send" | "advance";

/**
 * Logs a run of failures without flooding the log: the first failure at once, then at most one
 * line per `intervalMs` saying how many were not logged, and one line when a round succeeds again.
 * `now` is injected so the rate limit can be tested without waiting.
 */
export class FailureStreak {
  private failures = 0;
  private since = 0;
  private lastLoggedAt = 0;
  private unlogged = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Failed rounds since the last success. */
  get consecutive(): number {
    return this.failures;
  }

  failed(step: RelayStep, error: Error, retryInMs: number): void {
    const t = this.now();
    if (this.failures === 0) this.since = t;
    this.failures += 1;
    this.unlogged += 1;
    if (this.failures > 1 && t - this.lastLoggedAt < this.intervalMs) return;
    this.log.warn(
      { step, err: error.message, failures: this.failures, notLogged: this.unlogged - 1, failingForMs: t - this.since, retryInMs },
      step === "send" ? "outbox relay cannot reach Kafka; events stay in the outbox" : "outbox relay failed; retrying",
    );
    this.lastLoggedAt = t;
    this.unlogged = 0;
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.log.info({ failures: this.failures, failedForMs: this.now() - this.since }, "outbox relay recovered");
    this.failures = 0;
    this.unlogged = 0;
  }
}
