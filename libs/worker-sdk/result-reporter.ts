import type * as grpc from "@grpc/grpc-js";
import type { JobAttemptRef, JobResult, ReportResultsRequest, ReportResultsResponse, WorkerServiceClient } from "../proto/index.js";
import type { WorkerLogger } from "./options.js";
import { watchStream } from "./stream-watch.js";
import { UnackedResults } from "./unacked-results.js";

/** A result waiting for its acknowledgement. */
export interface PendingResult {
  /** deliveryKey(job id, attempt). */
  readonly key: string;
  readonly result: JobResult;
}

export interface ResultReporterHooks {
  /** The server acknowledged `item` (any code); it has left the book. */
  onAck(item: PendingResult, ack: ReportResultsResponse): void;
  /** The open stream ended on its own: the error, or undefined when the server ended it with OK. */
  onEnd(error: grpc.ServiceError | undefined): void;
}

/**
 * The ReportResults bidi stream: results out with a per-stream sequence, acks in. Every result
 * stays in the book until acknowledged; `open()` on a new stream sends all of them again with new
 * sequences (attempt fencing makes a repeat harmless: an accepted one comes back STALE). A result
 * reported while no stream is open waits in the book for the next one.
 */
export class ResultReporter {
  private readonly book = new UnackedResults<PendingResult>();
  private readonly byKey = new Map<string, PendingResult>();
  private call: grpc.ClientDuplexStream<ReportResultsRequest, ReportResultsResponse> | undefined;
  private ending = false;
  private flushWaiters: Array<() => void> = [];

  constructor(
    private readonly rpc: { readonly workers: WorkerServiceClient; metadata(): grpc.Metadata },
    private readonly workerId: () => string,
    private readonly hooks: ResultReporterHooks,
    private readonly log: WorkerLogger,
    private readonly readyGraceMs: number,
  ) {}

  get isOpen(): boolean {
    return this.call !== undefined;
  }

  get unacked(): number {
    return this.book.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Deliveries whose results are not acknowledged yet. */
  refs(): JobAttemptRef[] {
    return [...this.book.items()].map(({ result }) => ({ jobId: result.jobId, attempt: result.attempt }));
  }

  report(item: PendingResult): void {
    this.book.add(item);
    this.byKey.set(item.key, item);
    if (this.call && !this.ending) this.send(this.call, item);
  }

  /** Opens a new stream (cancelling the current one) and sends every unacknowledged result on it. */
  open(): Promise<void> {
    this.cancel();
    this.ending = false;
    const call = this.rpc.workers.reportResults(this.rpc.metadata());
    this.call = call;
    const ready = watchStream(call, this.readyGraceMs, (error) => {
      if (this.call !== call) return;
      this.call = undefined;
      if (!this.ending) this.hooks.onEnd(error);
    });
    call.once("status", () => {
      if (this.call === call) this.call = undefined;
    });
    call.on("data", (ack: ReportResultsResponse) => {
      if (this.call === call) this.acknowledge(ack);
    });
    for (const item of this.book.startStream()) this.send(call, item);
    return ready;
  }

  /** Drops the current stream; unacknowledged results stay for the next one. */
  cancel(): void {
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }

  /** Resolves true once every result is acknowledged, false after `timeoutMs`. */
  flushed(timeoutMs: number): Promise<boolean> {
    if (this.book.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.flushWaiters.push(done);
    });
  }

  /** Half-closes the stream and waits for the server to end it; cancels it after `timeoutMs`. */
  async end(timeoutMs: number): Promise<void> {
    const call = this.call;
    if (!call) return;
    this.ending = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => call.cancel(), timeoutMs);
      call.once("status", () => {
        clearTimeout(timer);
        resolve();
      });
      call.end();
    });
  }

  private send(call: grpc.ClientDuplexStream<ReportResultsRequest, ReportResultsResponse>, item: PendingResult): void {
    // Backpressure is not needed: the book is bounded by the worker's concurrency.
    call.write({ sequence: this.book.assignSequence(item), workerId: this.workerId(), result: item.result });
  }

  private acknowledge(ack: ReportResultsResponse): void {
    const item = this.book.acknowledge(ack.sequence);
    if (!item) {
      this.log.debug({ sequence: ack.sequence }, "ack for an unknown or already acknowledged sequence; ignored");
      return;
    }
    this.byKey.delete(item.key);
    this.hooks.onAck(item, ack);
    if (this.book.size === 0) {
      const waiters = this.flushWaiters;
      this.flushWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
