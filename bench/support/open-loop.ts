import { setTimeout as sleep } from "node:timers/promises";
import { LatencyRecorder } from "./latency-recorder.js";

// An open-loop load generator: starts operation i at `i / rate` seconds, whether or not earlier
// ones have finished, for `seconds`. Unlike a closed loop, a slow system does not slow the
// offered load down, so latencies include the queueing a real producer would cause. The clock is
// checked about every millisecond and every operation that has come due is started, so the rate
// holds even when timers fire late.

export interface OpenLoopResult {
  /** From the first start to the last operation's end. */
  readonly wallSeconds: number;
  /** Operations started per second while starting them (the offered rate actually achieved). */
  readonly offeredPerSecond: number;
  /** Call durations of the operations that succeeded. */
  readonly latency: LatencyRecorder;
  readonly succeeded: number;
  readonly failed: number;
  readonly firstError: unknown;
  /** Most operations in flight at once. */
  readonly maxInFlight: number;
}

export async function runOpenLoop(
  ratePerSecond: number,
  seconds: number,
  operation: (index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<OpenLoopResult> {
  const latency = new LatencyRecorder();
  const total = Math.round(ratePerSecond * seconds);
  let started = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let failed = 0;
  let firstError: unknown;
  const running = new Set<Promise<void>>();
  const begin = performance.now();
  const launch = (index: number): void => {
    const at = performance.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const call = operation(index).then(
      () => latency.record(performance.now() - at),
      (error: unknown) => {
        if (failed++ === 0) firstError = error;
      },
    );
    const tracked = call.finally(() => {
      inFlight--;
      running.delete(tracked);
    });
    running.add(tracked);
  };
  while (started < total && signal?.aborted !== true) {
    const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * ratePerSecond) + 1);
    while (started < due) launch(started++);
    await sleep(1);
  }
  const startingSeconds = (performance.now() - begin) / 1000;
  await Promise.all([...running]);
  return {
    wallSeconds: (performance.now() - begin) / 1000,
    offeredPerSecond: started / Math.max(startingSeconds, 1e-9),
    latency,
    succeeded: latency.count,
    failed,
    firstError,
    maxInFlight,
  };
}
