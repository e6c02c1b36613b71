/**
 * Bookkeeping of the ReportResults stream (pure): every reported result stays here until its
 * acknowledgement arrives, whatever happens to the stream it was sent on.
 *
 *   add(r) ──► assignSequence(r) ──► written on the current stream
 *                                      │ stream breaks
 *   startStream() ◄────────────────────┘  forgets old sequences, returns every unacked result
 *                                         in report order, to be written again with new ones
 *   acknowledge(seq) ──► the result leaves the book (whatever the ack code)
 *
 * Sequences restart at 1 on each stream: they only need to be unique among one stream's
 * unacknowledged results, and an ack always arrives on the stream its result was sent on.
 */
export class UnackedResults<T> {
  private readonly pending = new Set<T>();
  private bySequence = new Map<string, T>();
  private sequenceOf = new Map<T, string>();
  private nextSequence = 1;

  get size(): number {
    return this.pending.size;
  }

  /** Unacknowledged results in the order they were reported. */
  items(): IterableIterator<T> {
    return this.pending.values();
  }

  add(item: T): void {
    this.pending.add(item);
  }

  /** The sequence `item` is sent with on the current stream. */
  assignSequence(item: T): string {
    if (!this.pending.has(item)) throw new Error("assignSequence: the result is not in the book");
    if (this.sequenceOf.has(item)) throw new Error("assignSequence: the result was already sent on this stream");
    const sequence = String(this.nextSequence++);
    this.bySequence.set(sequence, item);
    this.sequenceOf.set(item, sequence);
    return sequence;
  }

  /** A new stream begins: returns every unacknowledged result, oldest first, to be sent on it. */
  startStream(): T[] {
    this.bySequence = new Map();
    this.sequenceOf = new Map();
    this.nextSequence = 1;
    return [...this.pending];
  }

  /** Ends the result sent with `sequence` on the current stream; undefined if unknown or repeated. */
  acknowledge(sequence: string): T | undefined {
    const item = this.bySequence.get(sequence);
    if (item === undefined) return undefined;
    this.bySequence.delete(sequence);
    this.sequenceOf.delete(item);
    this.pending.delete(item);
    return item;
  }
}
