import type { Counter } from "prom-client";
import type { Logger } from "../../libs/logging/logger.js";
import type { Component } from "../../libs/runtime/index.js";

/**
 * Runs one scheduler duty every `intervalMs`, never two runs of it at once; counts what each run
 * changed. A failing run is logged and retried at the next interval (the duties are idempotent).
 */
export class IntervalDuty implements Component {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly run: () => Promise<number>,
    private readonly changed: Counter<"duty">,
    private readonly log: Logger,
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
    try {
      const n = await this.run();
      if (n > 0) {
        this.changed.inc({ duty: this.name }, n);
        this.log.info({ duty: this.name, changed: n }, "duty ran");
      }
    } catch (err) {
      this.log.warn({ duty: this.name, err: (err as Error).message }, "duty failed; retrying at the next interval");
    }
  }
}
