import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import type { Component } from "../runtime/component.js";
import { readBoundary, readSample } from "./sample-queries.js";
import { StartLatencies } from "./start-latencies.js";
import { TimeSeries } from "./time-series.js";

export interface SamplerOptions {
  /** Time between samples; every point covers one such interval. */
  readonly intervalMs: number;
  /** How long points are kept (the pictures' time range). */
  readonly windowMs: number;
  /** Most latencies kept per sample, from finished and from running jobs each. */
  readonly latencyLimit: number;
}

export const DEFAULT_SAMPLER: SamplerOptions = { intervalMs: 5_000, windowMs: 15 * 60_000, latencyLimit: 500 };

/**
 * Samples throughput, backlog and submit→start latency every few seconds into a TimeSeries held in
 * this process's memory. Every health replica samples on its own; a restart starts an empty
 * picture. A failed sample leaves a gap (null) instead of a made-up number, and the next good one
 * covers the whole interval since the last good boundary.
 */
export class MetricsSampler implements Component {
  readonly name = "metrics-sampler";
  readonly series: TimeSeries;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private from: Date | undefined;
  /** Time of the last point, so a gap point lands one interval after it on the same (database) clock. */
  private lastAt: number | undefined;
  private failing = false;
  private readonly latencies = new StartLatencies();

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly options: SamplerOptions = DEFAULT_SAMPLER,
  ) {
    this.series = new TimeSeries(options.windowMs, options.intervalMs);
  }

  async start(): Promise<void> {
    // The first boundary is taken at once, so the first point covers the first interval exactly.
    await this.tick();
    this.timer = setInterval(() => void this.tickOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tickOnce(): Promise<void> {
    // A slow Postgres must not pile samples up: skip a tick while the previous one runs.
    this.running ??= this.tick().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async tick(): Promise<void> {
    try {
      if (this.from === undefined) {
        this.from = await readBoundary(this.pool);
      } else {
        const s = await readSample(this.pool, this.from);
        const seconds = (s.upto.getTime() - this.from.getTime()) / 1000;
        const latenciesMs = this.latencies.take(s.upto.getTime(), s.finishedLatencies, s.heldLatencies, this.options.latencyLimit);
        this.series.add({ at: s.upto.getTime(), seconds, succeeded: s.succeeded, failed: s.failed, pending: s.pending, latenciesMs });
        this.from = s.upto;
        this.lastAt = s.upto.getTime();
      }
      if (this.failing) this.log.info("dashboard sampling works again");
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err: (err as Error).message }, "dashboard sampling failed; the pictures show a gap until it works again");
      this.failing = true;
      if (this.from !== undefined) {
        this.lastAt = (this.lastAt ?? this.from.getTime()) + this.options.intervalMs;
        this.series.add({ at: this.lastAt, seconds: 0, succeeded: null, failed: null, pending: null, latenciesMs: [] });
      }
    }
  }
}
