/** Durations of the calls of one measured phase, in milliseconds. */
export class LatencyRecorder {
  private readonly samples: number[] = [];
  private sorted = true;

  record(ms: number): void {
    this.samples.push(ms);
    this.sorted = false;
  }

  get count(): number {
    return this.samples.length;
  }

  /** Nearest-rank percentile (`p` in 0..100); NaN when nothing was recorded. */
  percentile(p: number): number {
    if (this.samples.length === 0) return Number.NaN;
    if (!this.sorted) {
      this.samples.sort((a, b) => a - b);
      this.sorted = true;
    }
    const rank = Math.ceil((p / 100) * this.samples.length);
    return this.samples[Math.min(Math.max(rank, 1), this.samples.length) - 1]!;
  }
}
