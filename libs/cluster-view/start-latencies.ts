/** One job's submit→start latency as a sample read it. */
export interface JobLatency {
  readonly id: string;
  readonly ms: number;
}

/** How long a job counted while held is remembered without being seen held again. */
const FORGET_AFTER_MS = 60_000;

/**
 * Counts each job's submit→start latency once, in the first sample that sees the job started:
 * held by a worker, or already finished. A job's `started_at` is the time of its delivery, which
 * the dispatcher writes in a later batch (or together with the result), so on a loaded machine it
 * becomes visible after the sample of the interval it names had run; a window on `started_at`
 * lost such jobs (the dashboard test saw 3 of 5). Instead each sample reads every held job and the
 * jobs that finished in its interval, and this remembers which held jobs it already counted.
 */
export class StartLatencies {
  /** Job id → when a sample last saw it held, for the jobs counted while held. */
  private readonly counted = new Map<string, number>();

  /** The latencies to record for a sample at `at` (ms, never negative), at most `limit` from each source. */
  take(at: number, finished: readonly JobLatency[], held: readonly JobLatency[], limit: number): number[] {
    // A job handed back to PENDING (or finished where no sample saw it) stops being seen held.
    for (const [id, seen] of this.counted) if (at - seen > FORGET_AFTER_MS) this.counted.delete(id);
    const out: number[] = [];
    let fromFinished = 0;
    for (const job of finished) {
      if (this.counted.delete(job.id)) continue;
      if (fromFinished++ < limit) out.push(job.ms);
    }
    let fromHeld = 0;
    for (const job of held) {
      if (this.counted.has(job.id)) this.counted.set(job.id, at);
      else if (fromHeld++ < limit) {
        out.push(job.ms);
        this.counted.set(job.id, at);
      }
    }
    return out.map((ms) => Math.max(0, ms));
  }
}
