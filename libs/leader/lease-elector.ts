import type { Logger } from "../logging/logger.js";
import type { Demotion, DemotionReason, Fence, LeaderElector, LeaderStatus } from "./leader-elector.js";
import { leadershipDeadline, type LeaseTiming, type MonotonicClock } from "./lease.js";

/** One term held by this node. `token` is what the lock store holds for it (Redis: `node:term`). */
export interface HeldTerm {
  readonly term: bigint;
  readonly token: string;
  /** When the latest successful acquire/renew was sent (monotonic ms). */
  lastSentAt: number;
  /** lastSentAt + lease - safetyMargin: past it, the term is over whatever the lock store says. */
  deadline: number;
  readonly controller: AbortController;
}

/**
 * What both electors share: the term state with its lease deadline, the callbacks, and the loop
 * that runs one `tick` at a time (never two at once) at the delay each tick asks for.
 *
 * The deadline is checked lazily by every reader (`isLeader`, `fence`, `status`, the next tick)
 * as well as by the loop, so a process that was paused for longer than its lease learns it lost
 * the lease on its first look at the clock, before any renewal or duty could run.
 */
export abstract class LeaseElector implements LeaderElector {
  abstract readonly name: string;
  private held: HeldTerm | undefined;
  private readonly electedListeners = new Set<(term: bigint) => void>();
  private readonly demotedListeners = new Set<(demotion: Demotion) => void>();
  private timer: NodeJS.Timeout | undefined;
  /** Fires at the held term's deadline, so `demoted` is told on time even while a command hangs. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly releases = new Set<Promise<void>>();
  private stopping: Promise<void> | undefined;
  /** After losing a term, this node lets the standbys try first for one lease. */
  private competeAfter = Number.NEGATIVE_INFINITY;
  protected stopped = false;

  protected constructor(
    readonly electionName: string,
    readonly nodeId: string,
    protected readonly timing: LeaseTiming,
    protected readonly now: MonotonicClock,
    protected readonly log: Logger,
  ) {}

  /** Opens the connections the elector owns; on failure it must close what it opened. */
  protected abstract open(): Promise<void>;
  /** One acquire (no term held) or renew (`held`) round; returns the delay before the next one. */
  protected abstract tick(held: HeldTerm | undefined): Promise<number>;
  /** Best-effort release of a term this node gave up while the lock may still be its own. */
  protected abstract releaseLock(held: HeldTerm): Promise<void>;
  /** Closes what `open` opened; safe when `open` never ran. */
  protected abstract close(): Promise<void>;

  async start(): Promise<void> {
    if (this.stopped) throw new Error(`${this.name} was stopped; create a new elector`);
    await this.open();
    await this.cycle();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  isLeader(): boolean {
    return this.current() !== undefined;
  }

  currentTerm(): bigint | undefined {
    return this.current()?.term;
  }

  status(): LeaderStatus {
    const held = this.current();
    return { leader: held !== undefined, term: held?.term };
  }

  fence(): Fence | undefined {
    const held = this.current();
    if (!held) return undefined;
    return {
      name: this.electionName,
      term: held.term,
      nodeId: this.nodeId,
      signal: held.controller.signal,
      stillLeader: () => this.current() === held,
    };
  }

  onElected(listener: (term: bigint) => void): () => void {
    this.electedListeners.add(listener);
    return () => this.electedListeners.delete(listener);
  }

  onDemoted(listener: (demotion: Demotion) => void): () => void {
    this.demotedListeners.add(listener);
    return () => this.demotedListeners.delete(listener);
  }

  /** The held term if its deadline has not passed; ends it (lease-expired) when it has. */
  protected current(): HeldTerm | undefined {
    const held = this.held;
    if (held && this.now() >= held.deadline) {
      this.stepDown(held, "lease-expired");
      return undefined;
    }
    return held;
  }

  /** Starts a term whose acquire command was sent at `sentAt`, unless its lease already ran out. */
  protected elect(term: bigint, token: string, sentAt: number): HeldTerm | undefined {
    const deadline = leadershipDeadline(sentAt, this.timing);
    if (this.stopped || this.now() >= deadline) return undefined;
    const held: HeldTerm = { term, token, lastSentAt: sentAt, deadline, controller: new AbortController() };
    this.held = held;
    this.armDeadline(held);
    this.log.info({ election: this.electionName, term: term.toString() }, "elected leader");
    for (const listener of this.electedListeners) this.callListener(() => listener(term));
    return held;
  }

  /** Records a successful renewal sent at `sentAt`; false if the term ended meanwhile. */
  protected extend(held: HeldTerm, sentAt: number): boolean {
    if (this.current() !== held) return false;
    held.lastSentAt = sentAt;
    held.deadline = leadershipDeadline(sentAt, this.timing);
    this.armDeadline(held);
    return true;
  }

  private armDeadline(held: HeldTerm): void {
    clearTimeout(this.deadlineTimer);
    // +1: the check is `now >= deadline`, and timers may fire a fraction early on another clock.
    this.deadlineTimer = setTimeout(
      () => {
        if (this.current() === held) this.armDeadline(held);
      },
      Math.max(0, held.deadline - this.now()) + 1,
    );
  }

  /**
   * Ends `held` if it is still the current term: abort its fences, tell the listeners. After a
   * lapsed lease the lock may still be ours in the store, so it is released in the background
   * to let a standby in sooner.
   */
  protected stepDown(held: HeldTerm, reason: DemotionReason): void {
    if (this.held !== held) return;
    this.held = undefined;
    clearTimeout(this.deadlineTimer);
    held.controller.abort(new Error(`leadership ended: ${reason}`));
    // A node that lost its term (paused, cut off, overtaken) is the likeliest to lose the next
    // one too: it sits out one lease before competing again. A standby retries at least every
    // renew interval, so it gets about three tries first, enough for one whose timers run late
    // on a loaded machine (one interval was not: the old leader took the lock back).
    this.competeAfter = this.now() + this.timing.leaseMs;
    const fields = { election: this.electionName, term: held.term.toString(), reason };
    if (reason === "stopped") this.log.info(fields, "stepped down");
    else this.log.warn(fields, "stepped down");
    for (const listener of this.demotedListeners) this.callListener(() => listener({ term: held.term, reason }));
    if (reason === "lease-expired") this.track(this.releaseLock(held));
  }

  private track(release: Promise<void>): void {
    const tracked = release
      .catch((err: unknown) => this.log.warn({ election: this.electionName, err: (err as Error).message }, "releasing the leader lock failed"))
      .finally(() => this.releases.delete(tracked));
    this.releases.add(tracked);
  }

  private callListener(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ election: this.electionName, err: (err as Error).message }, "leadership listener threw");
    }
  }

  /** Runs one tick and schedules the next; the returned promise settles when the tick did. */
  private cycle(): Promise<void> {
    const run = async (): Promise<number> => {
      try {
        const held = this.current();
        const holdOff = this.competeAfter - this.now();
        if (!held && holdOff > 0) return holdOff;
        return await this.tick(held);
      } catch (err) {
        this.log.warn({ election: this.electionName, err: (err as Error).message }, "leader election round failed");
        return this.timing.renewIntervalMs;
      }
    };
    const running = run().then((delay) => {
      this.running = undefined;
      if (!this.stopped) this.timer = setTimeout(() => void this.cycle(), delay);
    });
    this.running = running;
    return running;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    clearTimeout(this.deadlineTimer);
    const held = this.held;
    if (held) {
      this.stepDown(held, "stopped");
      this.track(this.releaseLock(held));
    }
    while (this.releases.size > 0) await Promise.all(this.releases);
    await this.close();
  }
}
