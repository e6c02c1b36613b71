import type { StartSample } from "./e2e-protocol.js";
import { LatencyRecorder } from "./latency-recorder.js";

/** Submit→start latency of the jobs of a rate phase, and its two parts. */
export interface StartLatency {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Submit call until its answer reached the bench (the job is committed by then). */
  readonly submitCallP50Ms: number;
  readonly submitCallP99Ms: number;
  /** Answer at the bench until the handler started (negative when the handler was first). */
  readonly afterAnswerP50Ms: number;
  readonly afterAnswerP99Ms: number;
}

/**
 * Joins what the workers saw (job id, submitted at, started at) with when the bench got each
 * submit's answer, all epoch ms of the same machine's clock.
 */
export function startLatencyOf(samples: readonly StartSample[], answeredAt: ReadonlyMap<string, number>): StartLatency {
  const total = new LatencyRecorder();
  const call = new LatencyRecorder();
  const after = new LatencyRecorder();
  for (const [id, submittedAt, startedAt] of samples) {
    total.record(startedAt - submittedAt);
    const answered = answeredAt.get(id);
    if (answered === undefined) continue;
    call.record(answered - submittedAt);
    after.record(startedAt - answered);
  }
  return {
    samples: total.count,
    p50Ms: total.percentile(50),
    p99Ms: total.percentile(99),
    maxMs: total.percentile(100),
    submitCallP50Ms: call.percentile(50),
    submitCallP99Ms: call.percentile(99),
    afterAnswerP50Ms: after.percentile(50),
    afterAnswerP99Ms: after.percentile(99),
  };
}
