/**
 * Test support only (not exported): an in-process WorkerService on 127.0.0.1:0 whose answers a
 * test scripts, so the SDK's stream logic runs against real grpc-js calls. It records every
 * request in `calls` (in arrival order) and holds the current streams so a test can write to
 * them or break them.
 *
 * Batching (off by default, like an older server): set `batchHeaders` and the ReportResults
 * headers announce it; a message carrying `results` is then answered with one `acks` message.
 * `assignBatch` sends several jobs in one `assignments` message.
 */
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import {
  JobStatus,
  MAX_MESSAGE_BYTES_HEADER,
  MAX_RESULTS_PER_MESSAGE_HEADER,
  ResultAckCode,
  WORKER_SECRET_HEADER,
  WorkerServiceService,
  type DeregisterRequest,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JobAssignment,
  type JobCancellation,
  type RegisterWorkerRequest,
  type ReportResultsRequest,
  type ReportResultsResponse,
  type StreamJobsRequest,
  type StreamJobsResponse,
  type WorkerServiceServer,
} from "../proto/index.js";
import { msToDuration } from "../wire/to-wire.js";
import { afterEach, beforeEach } from "vitest";
import type { JobHandler, WorkerOptions } from "./options.js";
import { Worker } from "./worker.js";

export const SERVER_WORKER_ID = "0190a5a0-1111-7000-8000-000000000001";

type Failure = { code: grpc.status; details: string };
type Call =
  | { rpc: "register"; request: RegisterWorkerRequest }
  | { rpc: "heartbeat"; request: HeartbeatRequest }
  | { rpc: "streamJobs"; request: StreamJobsRequest }
  | { rpc: "reportResultsOpened" }
  | { rpc: "result"; request: ReportResultsRequest }
  | { rpc: "deregister"; request: DeregisterRequest };

export class ScriptedWorkerServer {
  readonly calls: Call[] = [];
  /** The `jq-worker-secret` each call after a registration presented, in arrival order. */
  readonly presentedSecrets: { rpc: string; secret: string | undefined }[] = [];
  private registrations = 0;
  heartbeatIntervalMs = 100;
  /** Answer of RegisterWorker: an error, or the id to return (default: the requested one, else SERVER_WORKER_ID). */
  onRegister: (request: RegisterWorkerRequest) => Failure | string = (r) => r.workerId || SERVER_WORKER_ID;
  onHeartbeat: (request: HeartbeatRequest) => Failure | Partial<HeartbeatResponse> = () => ({});
  /** Refuse a new job stream with this error. */
  onStreamJobs: (request: StreamJobsRequest) => Failure | undefined = () => undefined;
  /**
   * Ack code for a result, or undefined to leave it unacknowledged. Asked once per result: a
   * result of a batched message comes as if it had been sent alone.
   */
  onResult: (request: ReportResultsRequest) => ResultAckCode | undefined = () => ResultAckCode.ACCEPTED;
  /** Response headers of ReportResults that allow batches; undefined: none (an older server). */
  batchHeaders: { maxResultsPerMessage: string; maxMessageBytes: string } | undefined;
  onDeregister: (request: DeregisterRequest) => Failure | number = () => 0;
  /** Send response headers when a stream opens (as the real server should). */
  sendHeadersOnOpen = true;

  jobStream: grpc.ServerWritableStream<StreamJobsRequest, StreamJobsResponse> | undefined;
  resultStream: grpc.ServerDuplexStream<ReportResultsRequest, ReportResultsResponse> | undefined;
  private readonly server = new grpc.Server();

  async start(port = 0): Promise<string> {
    this.server.addService(WorkerServiceService, this.implementation());
    const bound = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return `127.0.0.1:${bound}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }

  of<R extends Call["rpc"]>(rpc: R): Array<Extract<Call, { rpc: R }>> {
    return this.calls.filter((c): c is Extract<Call, { rpc: R }> => c.rpc === rpc);
  }

  assign(jobId: string, extra: Partial<JobAssignment> = {}): void {
    this.send({ kind: { $case: "assignment", value: assignment(jobId, extra) } });
  }

  cancel(jobId: string, attempt = 1): void {
    this.send({ kind: { $case: "cancellation", value: cancellation(jobId, attempt) } });
  }

  drain(): void {
    this.send({ kind: { $case: "drain", value: { message: "drained by test" } } });
  }

  assignBatch(jobIds: string[]): void {
    this.send({ kind: { $case: "assignments", value: { assignments: jobIds.map((id) => assignment(id)) } } });
  }

  /** Acks a message: its one result, or all of its `results` (each with `code`) in one message. */
  ack(request: ReportResultsRequest, code = ResultAckCode.ACCEPTED): void {
    this.ackEach(request, () => code);
  }

  private ackEach(request: ReportResultsRequest, codeOf: (single: ReportResultsRequest) => ResultAckCode | undefined): void {
    const acks = singles(request).flatMap((single) => {
      const code = codeOf(single);
      return code === undefined ? [] : [{ sequence: single.sequence, code, message: "", jobStatus: code === ResultAckCode.ACCEPTED ? JobStatus.DONE : JobStatus.UNSPECIFIED }];
    });
    if (request.results.length === 0) {
      if (acks[0]) this.resultStream?.write({ ...acks[0], acks: [] });
    } else if (acks.length > 0) {
      this.resultStream?.write({ sequence: "0", code: ResultAckCode.UNSPECIFIED, message: "", jobStatus: JobStatus.UNSPECIFIED, acks });
    }
  }

  endJobStream(code: grpc.status, details: string): void {
    this.jobStream?.emit("error", { code, details, metadata: new grpc.Metadata() });
    this.jobStream = undefined;
  }

  endResultStream(code: grpc.status, details: string): void {
    this.resultStream?.emit("error", { code, details, metadata: new grpc.Metadata() });
    this.resultStream = undefined;
  }

  private send(message: StreamJobsResponse): void {
    if (!this.jobStream) throw new Error("no job stream open");
    this.jobStream.write(message);
  }

  private resultHeaders(): grpc.Metadata {
    const headers = new grpc.Metadata();
    if (this.batchHeaders) {
      headers.set(MAX_RESULTS_PER_MESSAGE_HEADER, this.batchHeaders.maxResultsPerMessage);
      headers.set(MAX_MESSAGE_BYTES_HEADER, this.batchHeaders.maxMessageBytes);
    }
    return headers;
  }

  private present(rpc: string, metadata: grpc.Metadata): void {
    const value = metadata.get(WORKER_SECRET_HEADER)[0];
    this.presentedSecrets.push({ rpc, secret: typeof value === "string" ? value : undefined });
  }

  private implementation(): WorkerServiceServer {
    return {
      registerWorker: (call, callback) => {
        this.calls.push({ rpc: "register", request: call.request });
        this.present("register", call.metadata);
        const answer = this.onRegister(call.request);
        if (typeof answer !== "string") return callback(answer);
        callback(null, {
          worker: { id: answer, hostname: call.request.hostname, status: 1, queues: call.request.queues, concurrency: call.request.concurrency, labels: {}, sdkVersion: call.request.sdkVersion, nodeId: "", activeJobs: 0 },
          heartbeatInterval: msToDuration(this.heartbeatIntervalMs),
          heartbeatTimeout: msToDuration(this.heartbeatIntervalMs * 3),
          unknownQueues: [],
          workerSecret: `secret-${++this.registrations}`,
        });
      },
      heartbeat: (call, callback) => {
        this.calls.push({ rpc: "heartbeat", request: call.request });
        this.present("heartbeat", call.metadata);
        const answer = this.onHeartbeat(call.request);
        if ("code" in answer) return callback(answer as Failure);
        callback(null, { drain: false, cancellations: [], nextHeartbeatIn: msToDuration(this.heartbeatIntervalMs), ...answer });
      },
      streamJobs: (call) => {
        this.calls.push({ rpc: "streamJobs", request: call.request });
        this.present("streamJobs", call.metadata);
        const refusal = this.onStreamJobs(call.request);
        if (refusal) return call.emit("error", { ...refusal, metadata: new grpc.Metadata() });
        // One stream per worker: the newer replaces the older, which ends FAILED_PRECONDITION.
        this.jobStream?.emit("error", { code: grpc.status.FAILED_PRECONDITION, details: "replaced by a newer stream", metadata: new grpc.Metadata() });
        this.jobStream = call;
        call.on("cancelled", () => {
          if (this.jobStream === call) this.jobStream = undefined;
        });
        if (this.sendHeadersOnOpen) call.sendMetadata(new grpc.Metadata());
      },
      reportResult: (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: "use ReportResults" }),
      reportResults: (call) => {
        this.calls.push({ rpc: "reportResultsOpened" });
        this.present("reportResults", call.metadata);
        this.resultStream = call;
        if (this.sendHeadersOnOpen) call.sendMetadata(this.resultHeaders());
        call.on("data", (request: ReportResultsRequest) => {
          this.calls.push({ rpc: "result", request });
          if (this.resultStream === call) this.ackEach(request, (single) => this.onResult(single));
        });
        call.on("end", () => call.end());
        call.on("cancelled", () => {
          if (this.resultStream === call) this.resultStream = undefined;
        });
      },
      deregister: (call, callback) => {
        this.calls.push({ rpc: "deregister", request: call.request });
        this.present("deregister", call.metadata);
        const answer = this.onDeregister(call.request);
        if (typeof answer !== "number") return callback(answer);
        callback(null, { releasedJobs: answer });
      },
    };
  }
}

/** The results of one ReportResults message, each as if it had been sent alone. */
export function singles(request: ReportResultsRequest): ReportResultsRequest[] {
  if (request.results.length === 0) return [request];
  return request.results.map(({ sequence, result }) => ({ sequence, workerId: request.workerId, result, results: [] }));
}

export function assignment(jobId: string, extra: Partial<JobAssignment> = {}): JobAssignment {
  return { jobId, queue: "emails", attempt: 1, payload: Buffer.from(`payload of ${jobId}`), metadata: {}, priority: 0, retryCount: 0, maxRetries: 3, ...extra };
}

function cancellation(jobId: string, attempt: number): JobCancellation {
  return { jobId, attempt, reason: 13, message: "cancelled by test" };
}

/**
 * Polls `predicate` until it holds; fails after `timeoutMs`. The default is far above what any
 * step takes on a quiet machine (milliseconds): it only bounds a broken test, and a whole suite
 * beside others on two cores once took longer than 3 s to get a job through.
 */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

/** A handler that holds each job until the test releases it, and exposes its signal. */
export function gatedHandler() {
  const releases = new Map<string, (value?: string) => void>();
  const signals = new Map<string, AbortSignal>();
  const handler: JobHandler = (job, { signal }) => {
    signals.set(job.id, signal);
    return new Promise<string | undefined>((resolve) => releases.set(job.id, resolve));
  };
  return { handler, signals, release: (id: string, value?: string) => releases.get(id)?.(value), started: (id: string) => signals.has(id) };
}

/**
 * The setup every Worker test file shares: a fresh scripted server per test, and a worker on it
 * that is closed after the test (with any extra servers the test started). `startWorker` defaults
 * to the queue "emails", `concurrency`, and fast reconnects.
 */
export function scriptedWorkerSuite(concurrency: number) {
  const suite = {
    server: undefined as unknown as ScriptedWorkerServer,
    address: "",
    worker: undefined as Worker | undefined,
    extraServers: [] as ScriptedWorkerServer[],
    startWorker(handler: JobHandler, options: Partial<WorkerOptions> = {}): Promise<Worker> {
      const w = new Worker({ address: suite.address, queues: ["emails"], concurrency, handler, reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...options });
      suite.worker = w;
      return w.start().then(() => w);
    },
  };
  beforeEach(async () => {
    suite.server = new ScriptedWorkerServer();
    suite.address = await suite.server.start();
  });
  afterEach(async () => {
    await suite.worker?.close();
    suite.worker = undefined;
    suite.server.stop();
    for (const s of suite.extraServers.splice(0)) s.stop();
  });
  return suite;
}
