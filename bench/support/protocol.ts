// The messages between bench/e2e.ts and its worker processes (worker.ts), over Node's IPC
// channel, and the clock both sides read.
//
//   bench ── start ─────────▶ worker   (connects and starts taking jobs)
//         ◀──────── ready ───
//         ◀───── progress ───          (every 50 ms while it changes: handlers started, completions)
//         ── collect ───────▶          (after the latency phase)
//         ◀──── collected ───          (start samples since the last collect)
//         ── stop ──────────▶          (graceful close; the process then exits)
//         ◀────── stopped ───

export type StartMessage = { readonly type: "start"; readonly queue: string; readonly concurrency: number } & (
  | { readonly system: "jq"; readonly address: string }
  | { readonly system: "pg-boss"; readonly connectionString: string }
  | { readonly system: "bullmq"; readonly redisUrl: string }
);

export type ParentMessage = StartMessage | { readonly type: "collect" } | { readonly type: "stop" };

/** A job that carried its submit time: [job id, submitted at, handler started at], epoch ms. */
export type StartSample = readonly [id: string, submittedAtMs: number, startedAtMs: number];

export interface Progress {
  /** Handler invocations, one per delivery (a job delivered twice counts twice). */
  readonly started: number;
  /** jq and BullMQ: completions the server acknowledged, and when the last one came (epoch ms). */
  readonly completed: number;
  readonly lastCompletedAtMs: number;
  /** jq only: results the api refused or voided (the SDK's stats). */
  readonly refused: number;
}

export type WorkerMessage =
  | { readonly type: "ready" }
  | ({ readonly type: "progress" } & Progress)
  | { readonly type: "collected"; readonly samples: readonly StartSample[] }
  | ({ readonly type: "stopped" } & Progress)
  | { readonly type: "failed"; readonly error: string };

/**
 * Wall-clock time in ms with sub-millisecond resolution. Every process on the machine reads the
 * same realtime clock, so a submit time taken in the bench and a start time taken in a worker can
 * be subtracted.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
