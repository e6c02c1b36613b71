import { setTimeout as sleep } from "node:timers/promises";

export interface WaitUntilOptions {
  /** What is being waited for, used in the timeout error. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Returns a reason to give up early, e.g. the service process has exited. */
  gaveUp?: () => string | undefined;
}

// Polls `probe` until it resolves (its value is returned), the deadline passes or `gaveUp` says
// waiting is pointless. The last probe error is kept so a timeout explains itself.
export async function waitUntil<T>(probe: () => Promise<T>, options: WaitUntilOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    const reason = options.gaveUp?.();
    if (reason !== undefined) throw new Error(`${options.what}: ${reason}`, { cause: lastError });
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`${options.what}: not ready after ${options.timeoutMs} ms (last error: ${detail})`, {
        cause: lastError,
      });
    }
    await sleep(intervalMs);
  }
}

/**
 * Resolves with `promise`'s value, or with undefined when `ms` pass first. The timer is cancelled
 * as soon as the race is decided so a long deadline does not keep the process alive.
 */
export async function withinDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const controller = new AbortController();
  const deadline = sleep(ms, undefined, { signal: controller.signal }).then(() => undefined);
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    controller.abort();
    deadline.catch(() => undefined);
  }
}
