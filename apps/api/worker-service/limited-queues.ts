import type pg from "pg";
import { limitedQueueNames } from "../../../libs/queues/index.js";

/**
 * The names of queues with a `max_concurrency`, refreshed on every dispatcher sweep. It only picks
 * the claim path: a queue that became limited since the last refresh gets no jobs through the
 * unlocked path (the claim statement refuses limited queues there), so a stale cache delays such
 * a queue by one sweep at most and never over-admits.
 */
export class LimitedQueues {
  private names: ReadonlySet<string> = new Set();

  constructor(private readonly pool: pg.Pool) {}

  get current(): ReadonlySet<string> {
    return this.names;
  }

  async refresh(): Promise<void> {
    this.names = await limitedQueueNames(this.pool);
  }
}
