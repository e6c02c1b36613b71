// What apps/api says about itself on /metrics, read without touching jq's code: its event-loop
// delay (prom-client's default metrics, whose histogram is reset by every scrape, so a scrape at
// the start of a phase and one at its end give the delay over that phase alone), and how long it
// took to answer SubmitJob (jq_grpc_request_duration_seconds, cumulative: a phase takes the
// difference of two scrapes).

/**
 * The timer interval of the event-loop histograms (prom-client's default precision, and the
 * workers' own): an idle process reads about this much, so the delay is what exceeds it.
 */
export const EVENT_LOOP_RESOLUTION_MS = 10;

const beyondResolution = (ms: number): number => Math.max(0, ms - EVENT_LOOP_RESOLUTION_MS);

/** Event-loop delay beyond the histogram's timer interval, ms. */
export interface EventLoopLag {
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Cumulative counts of a prometheus histogram, by upper bound in seconds (`+Inf` last). */
export type HistogramCounts = ReadonlyMap<number, number>;

export interface ApiMetricsScrape {
  /** Since the previous scrape. */
  readonly eventLoop: EventLoopLag;
  /** SubmitJob answer times as apps/api measures them, from arrival to answer. */
  readonly submitJob: HistogramCounts;
}

const SUBMIT_JOB_BUCKET = /^jq_grpc_request_duration_seconds_bucket\{[^}]*method="SubmitJob"[^}]*\} (\S+)$/;

function gauge(lines: readonly string[], name: string): number {
  const line = lines.find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

function submitJobBuckets(lines: readonly string[]): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const line of lines) {
    const match = SUBMIT_JOB_BUCKET.exec(line);
    if (match === null) continue;
    const le = /le="([^"]+)"/.exec(line)![1]!;
    buckets.set(le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), Number(match[1]));
  }
  return buckets;
}

export async function scrapeApiMetrics(httpPort: number): Promise<ApiMetricsScrape> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  const lines = (await response.text()).split("\n");
  return {
    eventLoop: {
      p99Ms: beyondResolution(gauge(lines, "nodejs_eventloop_lag_p99_seconds") * 1000),
      maxMs: beyondResolution(gauge(lines, "nodejs_eventloop_lag_max_seconds") * 1000),
      meanMs: beyondResolution(gauge(lines, "nodejs_eventloop_lag_mean_seconds") * 1000),
    },
    submitJob: submitJobBuckets(lines),
  };
}

/**
 * The `p`th percentile (0..100) of the observations between two scrapes, in ms, interpolated
 * linearly inside its bucket (as Prometheus' histogram_quantile does); NaN without observations.
 */
export function histogramPercentileMs(before: HistogramCounts, after: HistogramCounts, p: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => after.get(le)! - (before.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return Number.NaN;
  const rank = (p / 100) * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! < rank) continue;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const below = i === 0 ? 0 : counts[i - 1]!;
    const upper = bounds[i]!;
    if (!Number.isFinite(upper)) return lower * 1000;
    const inBucket = counts[i]! - below;
    return (lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1000;
  }
  return Number.NaN;
}
