import type pg from "pg";

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
    const { rows } = await this.pool.query<{ name: string }>("SELECT name FROM queues WHERE max_concurrency IS NOT NULL");
    this.names = new Set(rows.map((r) => r.name));
  }
}
