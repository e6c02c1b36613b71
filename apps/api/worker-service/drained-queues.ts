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
 *
 * It also remembers the queues whose last claim came back full: older jobs likely wait there, so
 * a submit's job is not offered a slot (the statement would refuse the hand-off, see
 * Dispatcher.offer). Not knowing (after a sweep, a wake-up) is not a backlog: the statement
 * decides, and a queue that gets a job every few milliseconds keeps its hand-offs through the
 * sweep (before, each sweep sent about five jobs per second per replica the slow way: a claim, a
 * NOTIFY and the other replica's empty claim).
 */
export class DrainedQueues {
  private readonly wakes = new Map<string, number>();
  private readonly drainedAt = new Map<string, number>();
  /** Of the latest claim over each queue to end (by start): whether it came back full. */
  private readonly lastClaim = new Map<string, { readonly claim: number; readonly full: boolean }>();
  /** Sweeps so far: a claim that started before the last one marks nothing. */
  private sweeps = 0;
  /** Claims started so far, to order their outcomes. */
  private claims = 0;

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

  /** Whether the latest claim over `queue` (since the last sweep) took all it asked for. */
  isBacklogged(queue: string): boolean {
    return this.lastClaim.get(queue)?.full === true;
  }

  /** Forget every mark (the dispatcher sweep). */
  forget(): void {
    this.drainedAt.clear();
    this.lastClaim.clear();
    this.sweeps++;
  }

  /** The queues among `queues` that may hold claimable jobs, and what a claim over them has seen. */
  claimable(queues: readonly string[]): ClaimScope {
    const wakes = new Map<string, number>();
    for (const q of queues) if (!this.isDrained(q)) wakes.set(q, this.wakes.get(q) ?? 0);
    return { queues: [...wakes.keys()], wakes, sweeps: this.sweeps, claim: ++this.claims };
  }

  /** A claim over `scope` took all it asked for: its queues may hold more. */
  full(scope: ClaimScope): void {
    if (scope.sweeps === this.sweeps) this.ended(scope, true);
  }

  /** A claim over `scope` came back short: each of its queues without a limit is drained. */
  drained(scope: ClaimScope, limited: ReadonlySet<string>): void {
    if (scope.sweeps !== this.sweeps) return;
    this.ended(scope, false);
    // A claim that started earlier may end later: keep the newest mark.
    for (const [q, n] of scope.wakes) if (!limited.has(q) && n >= (this.drainedAt.get(q) ?? 0)) this.drainedAt.set(q, n);
  }

  /** Records the outcome of a claim that started after the last sweep. */
  private ended(scope: ClaimScope, full: boolean): void {
    for (const q of scope.queues) {
      if ((this.lastClaim.get(q)?.claim ?? 0) < scope.claim) this.lastClaim.set(q, { claim: scope.claim, full });
    }
  }
}

/** The queues one claim asks for, with the wake-ups and sweeps there had been when it started. */
export interface ClaimScope {
  readonly queues: readonly string[];
  readonly wakes: ReadonlyMap<string, number>;
  readonly sweeps: number;
  /** The claim's number, in the order claims started. */
  readonly claim: number;
}
