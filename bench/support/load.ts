import { setTimeout as sleep } from "node:timers/promises";

// The two ways the bench offers load. A closed loop keeps `inFlight` operations going, each
// starting the next as soon as it ends: its throughput is what the system sustains at that
// concurrency. An open loop starts operation i at i / rate seconds whether or not earlier ones
// have finished, so a slow system does not slow the offered load down and latencies include the
// queueing a real producer would cause (the clock is checked every millisecond and every
// operation that has come due is started, so the rate holds when timers fire late).

export interface LoadResult {
  readonly succeeded: number;
  readonly failed: number;
  /** The first failure, to show why a run went wrong. */
  readonly firstError: unknown;
  /** Open loop: operations started per second while starting them. */
  readonly offeredPerSecond?: number;
}

class Outcomes {
  succeeded = 0;
  failed = 0;
  firstError: unknown;
  run(operation: () => Promise<unknown>): Promise<void> {
    return operation().then(
      () => void this.succeeded++,
      (error: unknown) => void (this.failed++ === 0 && (this.firstError = error)),
    );
  }
}

export async function closedLoop(operations: number, inFlight: number, operation: () => Promise<unknown>, signal: AbortSignal): Promise<LoadResult> {
  const outcomes = new Outcomes();
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < operations && !signal.aborted) {
      next++;
      await outcomes.run(operation);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, operations) }, loop));
  return outcomes;
}

export async function openLoop(ratePerSecond: number, seconds: number, operation: () => Promise<unknown>, signal: AbortSignal): Promise<LoadResult> {
  const outcomes = new Outcomes();
  const total = Math.round(ratePerSecond * seconds);
  const running: Promise<void>[] = [];
  const begin = performance.now();
  while (running.length < total && !signal.aborted) {
    const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * ratePerSecond) + 1);
    while (running.length < due) running.push(outcomes.run(operation));
    await sleep(1);
  }
  const offeredPerSecond = running.length / ((performance.now() - begin) / 1000);
  await Promise.all(running);
  return { succeeded: outcomes.succeeded, failed: outcomes.failed, firstError: outcomes.firstError, offeredPerSecond };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(Math.max(Math.ceil((p / 100) * sorted.length), 1), sorted.length) - 1]!;
}

/**
 * Percentile p of the values of each of `windows` consecutive windows of `windowMs` from `from`;
 * samples are [at, value], `at` on the same clock as `from`; NaN for a window with no sample.
 */
export function percentileByWindow(samples: readonly (readonly [number, number])[], p: number, from: number, windowMs: number, windows: number): number[] {
  const values: number[][] = Array.from({ length: windows }, () => []);
  for (const [at, value] of samples) values[Math.floor((at - from) / windowMs)]?.push(value);
  return values.map((v) => percentile(v, p));
}
