import { createRequire } from "node:module";

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

let applied = false;

/**
 * Stops kafkajs (2.2.x) from polling every idle broker connection once a millisecond.
 *
 * `RequestQueue.scheduleCheckPendingRequests` runs after every response. When nothing is pending
 * and nothing is throttled, it still schedules a check `throttledUntil - now` ms ahead: a negative
 * delay, which Node turns into 1 ms (with a `TimeoutNegativeWarning` on Node ≥ 23). That check
 * schedules the next one, so every connection spins a 1 ms timer for as long as the client lives.
 * This is upstream tulios/kafkajs#1704 and #1751, whose fixes (#1755, #1768) are not released.
 * Measured here with one connected, idle producer: 298 ms of CPU in 10 s without this, 15 ms
 * with it.
 *
 * The check has nothing to do in that state: a request pushed later is sent at once or queued
 * with its own check, and a throttled queue keeps its timer. So in that state this returns
 * without a timer. If a kafkajs release changes the class, this leaves it alone.
 */
export function stopIdleRequestQueueTimers(): void {
  if (applied) return;
  applied = true;
  let RequestQueue: { prototype: RequestQueueInternals } | undefined;
  try {
    RequestQueue = createRequire(import.meta.url)("kafkajs/src/network/requestQueue/index.js") as { prototype: RequestQueueInternals };
  } catch {
    return;
  }
  const original = RequestQueue.prototype.scheduleCheckPendingRequests;
  if (typeof original !== "function") return;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (Array.isArray(this.pending) && this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    original.call(this);
  };
}
