/**
 * The dashboard's pictures as a compact in-memory time series: one point per sample, kept for a
 * fixed window (15 minutes), served column-wise as the chart library draws it. Pure: the sampler
 * (metrics-sampler.ts) feeds it; nothing here touches Postgres or the clock.
 */

export interface SamplePoint {
  /** End of the sampled interval (the database's clock), Unix milliseconds. */
  readonly at: number;
  /** Jobs that reached DONE, and that were dead-lettered by failure, within the interval; null when the sample failed. */
  readonly succeeded: number | null;
  readonly failed: number | null;
  /** Length of the interval the counts cover, in seconds. */
  readonly seconds: number;
  /** PENDING jobs per queue at the sample (queues with none are absent); null when the sample failed. */
  readonly pending: ReadonlyMap<string, number> | null;
  /** Submit→start latencies sampled in the interval, milliseconds (at most the sampler's limit). */
  readonly latenciesMs: readonly number[];
}

/** What `/api/series` serves: parallel arrays, one entry per point, oldest first. */
export interface SeriesJson {
  readonly intervalSeconds: number;
  readonly windowSeconds: number;
  /** Unix seconds. */
  readonly t: number[];
  readonly succeededPerSecond: (number | null)[];
  readonly failedPerSecond: (number | null)[];
  /** The counts behind the rates (jobs in each point's interval). */
  readonly succeeded: (number | null)[];
  readonly failed: (number | null)[];
  /** The queues with the largest backlog in the window, then "other queues" for the rest. */
  readonly backlog: { readonly queue: string; readonly pending: (number | null)[] }[];
  readonly latencyMs: { readonly p50: (number | null)[]; readonly p90: (number | null)[]; readonly p99: (number | null)[]; readonly samples: number[] };
}

export const OTHER_QUEUES = "other queues";

export class TimeSeries {
  private points: SamplePoint[] = [];

  constructor(
    readonly windowMs: number,
    readonly intervalMs: number,
    /** How many queues get a line of their own in the backlog chart. */
    private readonly maxBacklogLines = 8,
  ) {}

  get size(): number {
    return this.points.length;
  }

  add(point: SamplePoint): void {
    this.points.push(point);
    const oldest = point.at - this.windowMs;
    while (this.points.length > 0 && this.points[0]!.at < oldest) this.points.shift();
  }

  toJson(): SeriesJson {
    const pts = this.points;
    const rate = (n: number | null, s: number) => (n === null || s <= 0 ? null : round(n / s, 3));
    const pct = (p: number) => pts.map((x) => (x.latenciesMs.length === 0 ? null : round(percentile(x.latenciesMs, p), 1)));
    return {
      intervalSeconds: this.intervalMs / 1000,
      windowSeconds: this.windowMs / 1000,
      t: pts.map((p) => Math.round(p.at / 1000)),
      succeededPerSecond: pts.map((p) => rate(p.succeeded, p.seconds)),
      failedPerSecond: pts.map((p) => rate(p.failed, p.seconds)),
      succeeded: pts.map((p) => p.succeeded),
      failed: pts.map((p) => p.failed),
      backlog: this.backlogLines(),
      latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), samples: pts.map((p) => p.latenciesMs.length) },
    };
  }

  /** One line per queue for the `maxBacklogLines` largest (by peak in the window), the rest summed. */
  private backlogLines(): SeriesJson["backlog"] {
    const peak = new Map<string, number>();
    for (const p of this.points) for (const [q, n] of p.pending ?? []) peak.set(q, Math.max(peak.get(q) ?? 0, n));
    const ranked = [...peak.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([q]) => q);
    const own = ranked.slice(0, this.maxBacklogLines);
    const rest = new Set(ranked.slice(this.maxBacklogLines));
    const lines = own.map((queue) => ({ queue, pending: this.points.map((p) => (p.pending === null ? null : (p.pending.get(queue) ?? 0))) }));
    if (rest.size > 0) {
      lines.push({
        queue: OTHER_QUEUES,
        pending: this.points.map((p) => {
          if (p.pending === null) return null;
          let sum = 0;
          for (const [q, n] of p.pending) if (rest.has(q)) sum += n;
          return sum;
        }),
      });
    }
    return lines;
  }
}

/** Nearest-rank percentile (`p` in 0–100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
