/**
 * Serves one computed value to every caller for `maxAgeMs`, and shares a computation in flight, so
 * a dashboard polling every 2 s plus Prometheus scrapes read Postgres at most once per interval.
 * The clock is injected so the policy is testable without waiting.
 */
export class SnapshotCache<T> {
  private value: { readonly at: number; readonly data: T } | undefined;
  private inFlight: Promise<T> | undefined;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<T> {
    const cached = this.value;
    if (cached !== undefined && this.now() - cached.at < this.maxAgeMs) return Promise.resolve(cached.data);
    this.inFlight ??= this.compute()
      .then((data) => {
        this.value = { at: this.now(), data };
        return data;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
