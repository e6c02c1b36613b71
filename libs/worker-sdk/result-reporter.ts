import type * as grpc from "@grpc/grpc-js";
import type { JobAttemptRef, JobResult, ReportResultsRequest, ReportResultsResponse, WorkerServiceClient } from "../proto/index.js";
import type { WorkerLogger } from "./options.js";
import { chunkByLimits } from "../batching/chunks.js";
import { batchLimitsFrom, estimateResultBytes, OutgoingResults, type BatchLimits } from "./result-batches.js";
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
 *
 * A call whose response headers allow it gets results in batches (result-batches.ts): those that
 * finish in one event-loop turn share a message, and acks may come several per message. Until
 * the headers arrive — so always for the resend at `open()` — and with an older server, each
 * result goes alone. Results queued for a batch are in the book already: when their call goes
 * away the queue is dropped, and the next stream's resend covers them.
 */
export class ResultReporter {
  private readonly book = new UnackedResults<PendingResult>();
  private readonly byKey = new Map<string, PendingResult>();
  private call: grpc.ClientDuplexStream<ReportResultsRequest, ReportResultsResponse> | undefined;
  /** What the current call's response headers allow; undefined: one result per message. */
  private limits: BatchLimits | undefined;
  private readonly outgoing = new OutgoingResults<PendingResult>((items) => this.sendBatches(items));
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
    if (!this.call || this.ending) return;
    if (this.limits) this.outgoing.add(item);
    else this.sendAlone(this.call, item);
  }

  /** Opens a new stream (cancelling the current one) and sends every unacknowledged result on it. */
  open(): Promise<void> {
    this.cancel();
    this.ending = false;
    const call = this.rpc.workers.reportResults(this.rpc.metadata());
    this.call = call;
    const ready = watchStream(call, this.readyGraceMs, (error) => {
      if (this.call !== call) return;
      this.detach();
      if (!this.ending) this.hooks.onEnd(error);
    });
    call.once("status", () => {
      if (this.call === call) this.detach();
    });
    call.once("metadata", (headers: grpc.Metadata) => {
      if (this.call === call) this.limits = batchLimitsFrom(headers);
    });
    call.on("data", (response: ReportResultsResponse) => {
      if (this.call === call) this.onResponse(response);
    });
    // Written before the headers can arrive, so one per message.
    for (const item of this.book.startStream()) this.sendAlone(call, item);
    return ready;
  }

  /** Drops the current stream; unacknowledged results stay for the next one. */
  cancel(): void {
    const call = this.call;
    this.detach();
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
    this.outgoing.flush(); // results queued for a batch go out before the half-close
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

  /** Forgets the current call, its limits and what was queued for it (the book keeps all of it). */
  private detach(): void {
    this.call = undefined;
    this.limits = undefined;
    this.outgoing.drop();
  }

  // Backpressure is not needed in either send: the book is bounded by the worker's concurrency.

  private sendAlone(call: grpc.ClientDuplexStream<ReportResultsRequest, ReportResultsResponse>, item: PendingResult): void {
    call.write({ sequence: this.book.assignSequence(item), workerId: this.workerId(), result: item.result, results: [] });
  }

  private sendBatches(items: PendingResult[]): void {
    const call = this.call;
    const limits = this.limits;
    if (!call || !limits) return; // cannot happen (detach drops the queue); the book keeps them anyway
    const workerId = this.workerId();
    for (const chunk of chunkByLimits(items, (item) => estimateResultBytes(item.result), limits)) {
      const results = chunk.map((item) => ({ sequence: this.book.assignSequence(item), result: item.result }));
      call.write({ sequence: "0", workerId, result: undefined, results });
    }
  }

  private onResponse(response: ReportResultsResponse): void {
    if (response.acks.length === 0) return this.acknowledge(response);
    // The acks of a batch: each is handled, and reported, as if it had come alone.
    for (const ack of response.acks) this.acknowledge({ ...ack, acks: [] });
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
