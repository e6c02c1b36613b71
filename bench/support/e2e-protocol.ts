// The messages between bench/e2e.ts and its worker processes (e2e-worker.ts), over Node's IPC
// channel, and the clock both sides read. Parent → worker: start, collect, stop. Worker → parent:
// ready, progress (every 50 ms while it changes), collected, stopped, failed.
//
//   bench ── start ─────────▶ worker   (connects, registers / starts polling)
//         ◀──────── ready ───
//         ◀───── progress ───          (handlers started so far, cumulative)
//         ── collect ───────▶          (after a latency phase)
//         ◀──── collected ───          (start samples since the last collect)
//         ── stop ──────────▶          (graceful close; the process then exits)
//         ◀────── stopped ───

/** How pg-boss workers poll and fetch; see docs/benchmarks.md for why these values. */
export interface PgBossWorkSettings {
  readonly batchSize: number;
  readonly localConcurrency: number;
  readonly pollingIntervalSeconds: number;
  /** useListenNotify on the instance and `notify: true` on the queue. */
  readonly notify: boolean;
}

export type StartMessage =
  | { readonly type: "start"; readonly system: "jq"; readonly address: string; readonly queue: string; readonly concurrency: number }
  | { readonly type: "start"; readonly system: "pg-boss"; readonly connectionString: string; readonly queue: string; readonly settings: PgBossWorkSettings };

export type ParentMessage = StartMessage | { readonly type: "collect" } | { readonly type: "stop" };

/** A job that carried its submit time: [job id, submitted at, handler started at], epoch ms. */
export type StartSample = readonly [id: string, submittedAtMs: number, startedAtMs: number];

/** What a worker process did, as its own counters say. */
export interface WorkerCounts {
  /** Handler invocations, one per job delivered (a job delivered twice counts twice). */
  readonly started: number;
  /** jq: the SDK's stats (results acknowledged, refused, voided); pg-boss: none. */
  readonly sdk?: Readonly<Record<string, number>>;
  /** Event-loop delay of the worker since it started, beyond the 10 ms timer interval: p99, max and mean, ms. */
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
  readonly eventLoopMeanMs: number;
}

export type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly started: number }
  | { readonly type: "collected"; readonly samples: readonly StartSample[] }
  | { readonly type: "stopped"; readonly counts: WorkerCounts }
  | { readonly type: "failed"; readonly error: string };

/**
 * Wall-clock time in milliseconds with sub-millisecond resolution. Every process on the machine
 * reads the same realtime clock, so a submit time taken in the bench and a start time taken in a
 * worker can be subtracted; Date.now() alone would round both to whole milliseconds.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
