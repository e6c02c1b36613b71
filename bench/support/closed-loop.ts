import { LatencyRecorder } from "./latency-recorder.js";

// A closed-loop load generator: `inFlight` async loops, each starting its next operation as soon
// as its previous one ends, until `operations` have been started (or `signal` aborts). Throughput
// is then what the system under test sustains at that concurrency, not an offered rate it may
// fall behind.

export interface ClosedLoopResult {
  readonly wallSeconds: number;
  readonly latency: LatencyRecorder;
  readonly succeeded: number;
  readonly failed: number;
  /** The first failure, to show why a run went wrong. */
  readonly firstError: unknown;
}

export async function runClosedLoop(
  operations: number,
  inFlight: number,
  operation: (index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<ClosedLoopResult> {
  const latency = new LatencyRecorder();
  let next = 0;
  let failed = 0;
  let firstError: unknown;
  const loop = async (): Promise<void> => {
    while (next < operations && signal?.aborted !== true) {
      const index = next++;
      const startedAt = performance.now();
      try {
        await operation(index);
        latency.record(performance.now() - startedAt);
      } catch (error) {
        if (failed++ === 0) firstError = error;
      }
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, operations) }, loop));
  const wallSeconds = (performance.now() - startedAt) / 1000;
  return { wallSeconds, latency, succeeded: latency.count, failed, firstError };
}
