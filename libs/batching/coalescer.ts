/**
 * Group commit for one process (SPEC §5, docs/write-path.md): callers hand in one item each and
 * await their own outcome; a flush writes everything queued so far in one call of `write`, which
 * returns one outcome per item, in order. A flush starts `windowMs` after a write slot is free and
 * an item waits (0: at the end of this turn of the event loop), or at once when a full batch is
 * waiting: "a window of W ms or N items, whichever first". Under load each batch is everything
 * that arrived while the previous ones were being written and during the window after; the window
 * is what keeps a steady trickle from becoming one write per item (docs/write-path.md).
 *
 * One bad item must not fail its neighbours: when a batch fails with an error that `isolates`
 * says may belong to one item (a constraint or data error, not a lost connection), each item is
 * written again on its own, and only the items that fail alone get the error.
 */
export interface CoalescerOptions<I> {
  /** Most items in one write, counted by `weight` (a heavier first item still travels alone). */
  readonly maxBatch: number;
  /** An item's share of `maxBatch`. Default 1. */
  readonly weight?: (item: I) => number;
  /** Writes in flight at once. Default 1. */
  readonly maxInFlight?: number;
  /** How long a flush waits for company once a slot is free; 0 (default): the rest of this turn. */
  readonly windowMs?: number;
  /**
   * Wait for the window only while writes are small: when the previous write took less than this
   * weight (a trickle of lone items). Larger writes mean items already arrive together, and waiting
   * would only add latency. Default: always wait.
   */
  readonly windowBelow?: number;
  /** Most items waiting; past it `add` rejects with `full(item)`. Default unbounded. */
  readonly maxQueued?: number;
  /** Most total `size` of the items waiting (bytes, say); past it `add` rejects likewise. */
  readonly maxQueuedSize?: number;
  /** An item's size for `maxQueuedSize`. */
  readonly size?: (item: I) => number;
  /** The error for an item refused because the queue is full. */
  readonly full?: (item: I) => Error;
  /** Whether a failed batch should be retried item by item. Default: never. */
  readonly isolates?: (error: unknown) => boolean;
}

interface Waiting<I, O> {
  readonly item: I;
  resolve(outcome: O): void;
  reject(error: unknown): void;
}

export class Coalescer<I, O> {
  private queue: Waiting<I, O>[] = [];
  private queuedSize = 0;
  /** Total weight of the waiting items. */
  private queuedWeight = 0;
  private inFlight = 0;
  private scheduled = false;
  /** The window's timer while a flush waits for company. */
  private timer: NodeJS.Timeout | undefined;
  /** Weight of the latest write started. */
  private lastWeight = 0;
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly write: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly options: CoalescerOptions<I>,
  ) {
    if (!(options.maxBatch >= 1)) throw new RangeError("maxBatch must be at least 1");
  }

  /** Items waiting for a write slot. */
  get queued(): number {
    return this.queue.length;
  }

  add(item: I): Promise<O> {
    const { maxQueued, maxQueuedSize } = this.options;
    const size = this.options.size?.(item) ?? 0;
    const full =
      (maxQueued !== undefined && this.queue.length >= maxQueued) ||
      (maxQueuedSize !== undefined && this.queue.length > 0 && this.queuedSize + size > maxQueuedSize);
    if (full) return Promise.reject(this.options.full?.(item) ?? new Error("coalescer queue is full"));
    this.queuedSize += size;
    this.queuedWeight += this.options.weight?.(item) ?? 1;
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything added so far is written (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.writes.size > 0) {
      // run(), not flush(): a window's timer still pending would fire after the drain.
      this.run();
      await Promise.allSettled([...this.writes]);
    }
  }

  private schedule(): void {
    if (this.inFlight >= (this.options.maxInFlight ?? 1)) return;
    const full = this.queuedWeight >= this.options.maxBatch;
    if (this.scheduled) {
      // A full batch does not wait for the rest of the window.
      if (full && this.timer !== undefined) this.run();
      return;
    }
    this.scheduled = true;
    const windowMs = this.lastWeight < (this.options.windowBelow ?? Infinity) ? (this.options.windowMs ?? 0) : 0;
    if (full) this.run();
    else if (windowMs > 0) this.timer = setTimeout(() => this.run(), windowMs);
    else setImmediate(() => this.run());
  }

  private run(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.scheduled = false;
    this.flush();
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < (this.options.maxInFlight ?? 1)) {
      const batch = this.queue.splice(0, this.batchLength());
      this.lastWeight = 0;
      for (const w of batch) {
        const weight = this.options.weight?.(w.item) ?? 1;
        this.queuedSize -= this.options.size?.(w.item) ?? 0;
        this.queuedWeight -= weight;
        this.lastWeight += weight;
      }
      this.inFlight++;
      const done = this.writeBatch(batch).finally(() => {
        this.inFlight--;
        this.writes.delete(done);
        if (this.queue.length > 0) this.schedule();
      });
      this.writes.add(done);
    }
  }

  /** How many queued items the next batch takes: at least one, at most maxBatch by weight. */
  private batchLength(): number {
    const weight = this.options.weight;
    if (weight === undefined) return this.options.maxBatch;
    let total = 0;
    let n = 0;
    while (n < this.queue.length) {
      total += weight(this.queue[n]!.item);
      if (n > 0 && total > this.options.maxBatch) break;
      n++;
    }
    return n;
  }

  private async writeBatch(batch: readonly Waiting<I, O>[]): Promise<void> {
    try {
      const outcomes = await this.write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(outcomes[i]!));
    } catch (error) {
      if (batch.length > 1 && this.options.isolates?.(error)) {
        for (const w of batch) await this.writeBatch([w]);
        return;
      }
      for (const w of batch) w.reject(error);
    }
  }
}
