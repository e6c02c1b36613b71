import { monitorEventLoopDelay } from "node:perf_hooks";

/**
 * How late this process's timers ran: the event loop's worst delay since `reset()`. Code running
 * in this process (an elector, a poller) waited at least that long past each of its own timers,
 * and a server on the same loaded machine is starved alike: a time bound a test asserts is the
 * bound plus this, measured, not plus a guess.
 */
export interface TimerLateness {
  maxMs(): number;
  reset(): void;
  stop(): void;
}

export function timerLateness(): TimerLateness {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    // The histogram counts the sampling period too: a loop that is never late reads `resolution`.
    maxMs: () => Math.max(0, histogram.max / 1e6 - 10),
    reset: () => histogram.reset(),
    stop: () => histogram.disable(),
  };
}
