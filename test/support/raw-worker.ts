import type * as grpc from "@grpc/grpc-js";
import type { JqClient } from "../../libs/client/index.js";
import type { JobAssignment, JobCancellation, ReportResultsResponse, StreamJobsResponse } from "../../libs/proto/index.js";

/**
 * A worker driven by hand from a test over the real protocol (no SDK): it registers, opens its job
 * stream and a ReportResults stream, records what arrives, and reports exactly what the test says.
 */
export class RawWorker {
  readonly assignments: JobAssignment[] = [];
  readonly cancellations: JobCancellation[] = [];
  readonly drains: string[] = [];
  readonly acks: ReportResultsResponse[] = [];
  /** Items of each `assignments` message received (several assignments in one message). */
  readonly assignmentMessages: number[] = [];
  /** Acks of each ReportResults response that carried several (`acks`). */
  readonly ackMessages: number[] = [];
  /** The ReportResults call's response headers, once they arrived. */
  resultHeaders: grpc.Metadata | undefined;
  streamError: grpc.ServiceError | null | undefined;
  /** True once the api sent the job stream's headers: it then holds this stream as the worker's session. */
  accepted = false;
  private stream: grpc.ClientReadableStream<StreamJobsResponse> | undefined;
  private results: grpc.ClientDuplexStream<unknown, ReportResultsResponse> | undefined;
  private sequence = 0;
  private waiters: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly client: JqClient,
    readonly id: string,
    /** The per-registration secret RegisterWorker returned, sent as `jq-worker-secret`. */
    readonly secret: string,
  ) {}

  static async register(client: JqClient, queues: string[], concurrency: number, workerId = ""): Promise<RawWorker> {
    const res = await client.call(client.workers, "registerWorker", { workerId, hostname: "test", sdkVersion: "raw", queues, concurrency, labels: {} });
    return new RawWorker(client, res.worker!.id, res.workerSecret);
  }

  /** Headers proving this worker's registration, for `client.call(…, { headers })`. */
  headers(): Record<string, string> {
    return { "jq-worker-secret": this.secret };
  }

  /** Opens both streams; `maxAssignmentsPerMessage` above 1 asks for several assignments per message. */
  open(maxAssignmentsPerMessage = 0): this {
    const stream = this.client.workers.streamJobs({ workerId: this.id, maxAssignmentsPerMessage }, this.client.metadata(this.headers()));
    this.stream = stream;
    this.streamError = undefined;
    this.accepted = false;
    stream.on("metadata", () => {
      this.accepted = true;
      this.notify();
    });
    stream.on("data", (m: StreamJobsResponse) => {
      if (m.kind?.$case === "assignment") this.assignments.push(m.kind.value);
      if (m.kind?.$case === "assignments") {
        this.assignments.push(...m.kind.value.assignments);
        this.assignmentMessages.push(m.kind.value.assignments.length);
      }
      if (m.kind?.$case === "cancellation") this.cancellations.push(m.kind.value);
      if (m.kind?.$case === "drain") this.drains.push(m.kind.value.message);
      this.notify();
    });
    stream.on("error", (e: grpc.ServiceError) => {
      this.streamError = e;
      this.notify();
    });
    stream.on("end", () => {
      this.streamError ??= null;
      this.notify();
    });
    const results = this.client.workers.reportResults(this.client.metadata(this.headers()));
    results.on("metadata", (headers: grpc.Metadata) => {
      this.resultHeaders = headers;
      this.notify();
    });
    results.on("data", (a: ReportResultsResponse) => {
      if (a.acks.length === 0) this.acks.push(a);
      else {
        this.ackMessages.push(a.acks.length);
        this.acks.push(...a.acks.map((one) => ({ ...one, acks: [] })));
      }
      this.notify();
    });
    results.on("error", () => {});
    this.results = results as unknown as grpc.ClientDuplexStream<unknown, ReportResultsResponse>;
    return this;
  }

  /** Opens the streams and resolves once the api holds the job stream (its headers arrived). */
  async opened(timeoutMs = 10_000, maxAssignmentsPerMessage = 0): Promise<this> {
    this.open(maxAssignmentsPerMessage);
    await this.until(() => this.accepted || this.streamError !== undefined, timeoutMs, "the job stream's headers");
    if (!this.accepted) throw new Error(`worker ${this.id}: the job stream ended before it was accepted: ${this.streamError?.message ?? "no error"}`);
    return this;
  }

  succeed(a: { jobId: string; attempt: number }, result = "ok"): string {
    return this.send({ jobId: a.jobId, attempt: a.attempt, outcome: { $case: "success", value: { result: Buffer.from(result) } } });
  }

  fail(a: { jobId: string; attempt: number }, message: string, retryable?: boolean): string {
    return this.send({ jobId: a.jobId, attempt: a.attempt, outcome: { $case: "failure", value: { message, retryable } } });
  }

  private send(result: unknown): string {
    const sequence = String(++this.sequence);
    this.results!.write({ sequence, workerId: this.id, result, results: [] });
    return sequence;
  }

  /** Reports several results in one message (`results`); returns their sequences. */
  sendSeveral(results: readonly unknown[]): string[] {
    const items = results.map((result) => ({ sequence: String(++this.sequence), result }));
    this.results!.write({ sequence: "0", workerId: this.id, result: undefined, results: items });
    return items.map((i) => i.sequence);
  }

  async ackOf(sequence: string, timeoutMs = 10_000): Promise<ReportResultsResponse> {
    await this.until(() => this.acks.some((a) => a.sequence === sequence), timeoutMs, `ack ${sequence}`);
    return this.acks.find((a) => a.sequence === sequence)!;
  }

  /** Resolves once `check` holds, re-checking on every message; rejects after `timeoutMs`. */
  async until(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`worker ${this.id}: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Heartbeats every `everyMs` until close(), as a live worker does. */
  beat(everyMs: number): this {
    this.heartbeat = setInterval(() => {
      void this.client.call(this.client.workers, "heartbeat", { workerId: this.id, heldJobs: [], heldJobsComplete: false }, { headers: this.headers() }).catch(() => {});
    }, everyMs);
    return this;
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.stream?.cancel();
    this.results?.end();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
