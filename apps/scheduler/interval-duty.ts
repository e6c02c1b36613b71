import type pg from "pg";
import type { Counter } from "prom-client";
import { StaleLeader, withFencedTransaction, type LeaderElector } from "../../libs/leader/index.js";
import type { Logger } from "../../libs/logging/logger.js";
import type { Db } from "../../libs/postgres/db.js";
import type { Component } from "../../libs/runtime/index.js";

/**
 * Runs one leader duty every `intervalMs` (never two runs of it at once), only while this node
 * leads, and each run inside a fenced transaction: if a newer term exists, the run's writes are
 * refused and rolled back (libs/leader). Counts what each run changed; a failing run is logged and
 * retried at the next interval, which is safe because every duty is a conditional update.
 */
export class IntervalDuty implements Component {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly run: (db: Db) => Promise<number>,
    private readonly deps: { pool: pg.Pool; elector: LeaderElector; changed: Counter<"duty">; log: Logger },
  ) {}

  async start(): Promise<void> {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.once().finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    }, delay);
  }

  private async once(): Promise<void> {
    const fence = this.deps.elector.fence();
    if (!fence) return;
    try {
      const n = await withFencedTransaction(this.deps.pool, fence, (client) => this.run(client));
      if (n > 0) {
        this.deps.changed.inc({ duty: this.name }, n);
        this.deps.log.info({ duty: this.name, changed: n, term: String(fence.term) }, "duty ran");
      }
    } catch (err) {
      const level = err instanceof StaleLeader ? "info" : "warn";
      this.deps.log[level]({ duty: this.name, err: (err as Error).message }, "duty did not run; retrying at the next interval");
    }
  }
}
