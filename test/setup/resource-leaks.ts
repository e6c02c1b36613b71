import { setTimeout as sleep } from "node:timers/promises";
import { countResources, excessResources, hasResources, minimumCounts, type ResourceCounts } from "./resource-diff.js";

// Samples of this process's ref'd resources and the wait for leftovers to close. Vitest itself
// holds some (its IPC pipe or message port) and creates short-lived ones (a ~100 ms timer that
// batches progress reports), so a baseline is the minimum over samples and a check waits a
// grace period for things that are merely closing, such as a socket whose close callback has not
// run yet.

export function sampleResources(): ResourceCounts {
  return countResources(process.getActiveResourcesInfo());
}

/** The minimum per kind over samples taken across `windowMs`: transient resources drop out. */
export async function settledResourceCounts(windowMs = 150, intervalMs = 10): Promise<ResourceCounts> {
  let baseline = sampleResources();
  const deadline = performance.now() + windowMs;
  while (performance.now() < deadline) {
    await sleep(intervalMs);
    baseline = minimumCounts(baseline, sampleResources());
  }
  return baseline;
}

export interface LeakWaitOptions {
  graceMs?: number;
  intervalMs?: number;
}

/**
 * Waits until nothing beyond `baseline` is open, for at most `graceMs`, and returns what is still
 * open beyond it then (empty when nothing leaked).
 */
export async function resourcesLeftOpen(baseline: ResourceCounts, options: LeakWaitOptions = {}): Promise<ResourceCounts> {
  const deadline = performance.now() + (options.graceMs ?? 2_000);
  for (;;) {
    const excess = excessResources(baseline, sampleResources());
    if (!hasResources(excess) || performance.now() >= deadline) return excess;
    await sleep(options.intervalMs ?? 25);
  }
}
