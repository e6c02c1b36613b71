import type { JobEventRecord, JobStore } from "../../../libs/jobs/index.js";
import type { Logger } from "../../../libs/logging/logger.js";

interface Subscription {
  readonly jobId: string;
  afterId: string;
  readonly onEvents: (events: JobEventRecord[]) => void;
  readonly onClose: () => void;
}

/**
 * Live job events for WatchJob. One loop per API process reads, every `intervalMs`, the new
 * events of every watched job in one query, so watchers cost one round trip per tick together,
 * and a change made on any replica is seen here within a tick (the events are in Postgres).
 * Polling rather than LISTEN/NOTIFY keeps NOTIFY (which serialises commits) off the hot path.
 */
export class JobEventFeed {
  private readonly subscriptions = new Set<Subscription>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly jobs: Pick<JobStore, "eventsOfJobs">,
    private readonly log: Logger,
    private readonly intervalMs = 100,
    private readonly batch = 500,
  ) {}

  /**
   * Calls `onEvents` with each batch of the job's events after `afterId`, and `onClose` if the
   * feed stops (process shutdown); returns the unsubscribe.
   */
  subscribe(jobId: string, afterId: string, onEvents: (events: JobEventRecord[]) => void, onClose: () => void): () => void {
    if (this.stopped) {
      onClose();
      return () => {};
    }
    const sub: Subscription = { jobId, afterId, onEvents, onClose };
    this.subscriptions.add(sub);
    this.schedule();
    return () => this.subscriptions.delete(sub);
  }

  get watchers(): number {
    return this.subscriptions.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    const subs = [...this.subscriptions];
    this.subscriptions.clear();
    for (const s of subs) s.onClose();
  }

  private schedule(): void {
    if (this.timer || this.polling || this.stopped || this.subscriptions.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    const subs = [...this.subscriptions];
    // Several watchers of one job share the lowest cursor; each gets only what it has not seen.
    const cursors = new Map<string, bigint>();
    for (const s of subs) {
      const current = cursors.get(s.jobId);
      const mine = BigInt(s.afterId);
      if (current === undefined || mine < current) cursors.set(s.jobId, mine);
    }
    let events: JobEventRecord[];
    try {
      events = await this.jobs.eventsOfJobs(
        [...cursors].map(([jobId, after]) => ({ jobId, afterId: after.toString() })),
        this.batch,
      );
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "job event feed poll failed; retrying");
      return;
    }
    for (const s of subs) {
      if (!this.subscriptions.has(s)) continue;
      const after = BigInt(s.afterId);
      const mine = events.filter((e) => e.jobId === s.jobId && BigInt(e.id) > after);
      if (mine.length === 0) continue;
      s.afterId = mine[mine.length - 1]!.id;
      s.onEvents(mine);
    }
  }
}
