/**
 * The queues this replica last found with nothing to claim, so that a freed slot does not send
 * Postgres a claim that can only come back empty (in bench:e2e half of all claims did: every
 * result refilled its stream from a queue the previous claim had just emptied).
 *
 * A queue is drained when a claim over it came back with fewer jobs than it asked for, as of the
 * wake-ups the claim had seen when it started; any wake-up since (a NOTIFY, a local submit, a
 * retry) makes it claimable again, so a job committed while that claim ran is never missed. The
 * dispatcher's sweep forgets every mark: delayed jobs coming due and lost notifications are found
 * within one sweep, as before. Queues with a `max_concurrency` are never marked: a short claim
 * there may mean "at its limit", which a result anywhere can lift.
 */
export class DrainedQueues {
  private readonly wakes = new Map<string, number>();
  private readonly drainedAt = new Map<string, number>();
  /** Sweeps so far: a claim that started before the last one marks nothing. */
  private sweeps = 0;

  /** Jobs may have become claimable in `queue`. Returns the wake-up's number, for drainedSince. */
  wake(queue: string): number {
    const n = (this.wakes.get(queue) ?? 0) + 1;
    this.wakes.set(queue, n);
    return n;
  }

  /**
   * Whether a claim that started after wake-up `wake` came back short: the jobs that wake-up
   * announced were claimed, here or elsewhere. Later wake-ups do not matter; they answer for
   * their own jobs (without this, every submit that overlapped another's claim told the other
   * replicas, in bench:e2e's open loop 0.42 NOTIFYs per job).
   */
  drainedSince(queue: string, wake: number): boolean {
    return (this.drainedAt.get(queue) ?? 0) >= wake;
  }

  /** Whether the last claim over `queue` came back short, with no wake-up since. */
  isDrained(queue: string): boolean {
    return this.drainedAt.get(queue) === (this.wakes.get(queue) ?? 0);
  }

  /** Forget every mark (the dispatcher sweep). */
  forget(): void {
    this.drainedAt.clear();
    this.sweeps++;
  }

  /** The queues among `queues` that may hold claimable jobs, and what a claim over them has seen. */
  claimable(queues: readonly string[]): ClaimScope {
    const wakes = new Map<string, number>();
    for (const q of queues) if (!this.isDrained(q)) wakes.set(q, this.wakes.get(q) ?? 0);
    return { queues: [...wakes.keys()], wakes, sweeps: this.sweeps };
  }

  /** A claim over `scope` came back short: each of its queues without a limit is drained. */
  drained(scope: ClaimScope, limited: ReadonlySet<string>): void {
    if (scope.sweeps !== this.sweeps) return;
    // A claim that started earlier may end later: keep the newest mark.
    for (const [q, n] of scope.wakes) if (!limited.has(q) && n >= (this.drainedAt.get(q) ?? 0)) this.drainedAt.set(q, n);
  }
}

/** The queues one claim asks for, with the wake-ups and sweeps there had been when it started. */
export interface ClaimScope {
  readonly queues: readonly string[];
  readonly wakes: ReadonlyMap<string, number>;
  readonly sweeps: number;
}
