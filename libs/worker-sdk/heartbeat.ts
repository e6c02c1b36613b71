/** Used when the server gives no interval; also the floor, so a bad reply cannot make a hot loop. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
const MIN_HEARTBEAT_INTERVAL_MS = 50;

/**
 * Calls `beat` again and again; each call returns how long to wait before the next one (the
 * server's `next_heartbeat_in`). One beat at a time; `stop()` cancels the one in flight through
 * its signal and resolves when it has settled, leaving no timer behind.
 */
export class HeartbeatLoop {
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly beat: (signal: AbortSignal) => Promise<number>,
    private readonly fallbackDelayMs: () => number,
  ) {}

  start(firstDelayMs: number): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    await this.inFlight;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), Math.max(delayMs, MIN_HEARTBEAT_INTERVAL_MS));
  }

  private run(): void {
    this.timer = undefined;
    const controller = new AbortController();
    this.controller = controller;
    this.inFlight = this.beat(controller.signal).then(
      (next) => this.schedule(next),
      () => this.schedule(this.fallbackDelayMs()),
    ).finally(() => {
      if (this.controller === controller) this.controller = undefined;
    });
  }
}
