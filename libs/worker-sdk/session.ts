import * as grpc from "@grpc/grpc-js";
import type { JqClient } from "../client/index.js";
import { WORKER_SECRET_HEADER, type HeartbeatResponse, type JobAttemptRef, type RegisterWorkerResponse } from "../proto/index.js";
import { positiveDurationMs } from "../wire/from-wire.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "./heartbeat.js";
import type { ResolvedWorkerOptions, WorkerLogger } from "./options.js";
import { SDK_NAME } from "./version.js";

const DEREGISTER_DEADLINE_MS = 5_000;

/**
 * The worker's registration with the server and its unary calls (RegisterWorker, Heartbeat,
 * Deregister). Each registration bumps `epoch`, so an answer about an older session — a
 * heartbeat refused just before the worker registered again — can be told apart.
 */
export class WorkerSession {
  id: string | undefined;
  epoch = 0;
  registrations = 0;
  heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
  /** The secret the last RegisterWorker issued; sent as `jq-worker-secret` on every worker call. */
  private secret: string | undefined;

  constructor(
    private readonly client: JqClient,
    private readonly options: ResolvedWorkerOptions,
    private readonly log: WorkerLogger,
  ) {
    this.id = options.workerId;
  }

  /** Headers of every call about this worker: the API key's, plus the registration's secret. */
  headers(): Record<string, string> {
    return this.secret === undefined ? {} : { [WORKER_SECRET_HEADER]: this.secret };
  }

  /** Metadata for the streaming calls (StreamJobs, ReportResults). */
  metadata(): grpc.Metadata {
    return this.client.metadata(this.headers());
  }

  requireId(): string {
    if (this.id === undefined) throw new Error("the worker is not registered");
    return this.id;
  }

  /** Registers, or registers again under the same id; from then on the server's id is used. */
  async register(signal?: AbortSignal): Promise<RegisterWorkerResponse> {
    const o = this.options;
    const request = { workerId: this.id ?? "", hostname: o.hostname, sdkVersion: SDK_NAME, queues: [...o.queues], concurrency: o.concurrency, labels: { ...o.labels } };
    // Registering again under the same id proves it is this worker with the current secret.
    const response = await this.client.call(this.client.workers, "registerWorker", request, { signal, headers: this.headers() });
    const id = response.worker?.id;
    if (!id) throw new Error("RegisterWorker answered without a worker id");
    if (this.id !== undefined && id !== this.id) this.log.warn({ requested: this.id, assigned: id }, "the server assigned another worker id");
    this.id = id;
    this.secret = response.workerSecret || undefined;
    this.epoch++;
    this.registrations++;
    this.heartbeatIntervalMs = positiveDurationMs(response.heartbeatInterval) ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    if (response.unknownQueues.length > 0) this.log.warn({ queues: response.unknownQueues }, "queues do not exist yet; their jobs arrive once they are created");
    this.log.info({ workerId: id, heartbeatIntervalMs: this.heartbeatIntervalMs }, "registered");
    return response;
  }

  /**
   * `heldJobs` must be everything the worker holds: deliveries not yet finished and results not
   * yet acknowledged. It says so (`heldJobsComplete`), and the server hands back any delivery it
   * gave this worker that is missing from two heartbeats in a row.
   */
  heartbeat(heldJobs: JobAttemptRef[], signal?: AbortSignal): Promise<HeartbeatResponse> {
    return this.client.call(this.client.workers, "heartbeat", { workerId: this.requireId(), heldJobs, heldJobsComplete: true }, { signal, headers: this.headers() });
  }

  /**
   * Before a new process first registers under a given id: whatever the server still counts as
   * held by that id belongs to a previous process that is gone (a crash, a kill), and would
   * otherwise stay RUNNING and take this worker's slots, since heartbeats keep the id alive.
   * Deregister hands it back (retried or dead-lettered); for an unknown, OFFLINE or non-UUID id
   * there is nothing to hand back.
   */
  async releasePreviousProcess(): Promise<void> {
    if (this.id === undefined || this.registrations > 0) return;
    try {
      const response = await this.client.call(this.client.workers, "deregister", { workerId: this.id }, { deadlineMs: DEREGISTER_DEADLINE_MS });
      if (response.releasedJobs > 0) this.log.warn({ workerId: this.id, releasedJobs: response.releasedJobs }, "handed back the jobs a previous process left under this worker id");
    } catch (error) {
      const code = (error as Partial<grpc.ServiceError>).code;
      // PERMISSION_DENIED: the id is bound to a registration this process does not hold the secret
      // of; registering hands back what it held anyway.
      if (code !== grpc.status.NOT_FOUND && code !== grpc.status.INVALID_ARGUMENT && code !== grpc.status.PERMISSION_DENIED) throw error;
    }
  }

  /** Hands back whatever the server still counts as held; a no-op for an OFFLINE worker. */
  async deregister(): Promise<void> {
    if (this.registrations === 0 || this.id === undefined) return;
    const response = await this.client.call(this.client.workers, "deregister", { workerId: this.id }, { deadlineMs: DEREGISTER_DEADLINE_MS, headers: this.headers() });
    this.log.info({ workerId: this.id, releasedJobs: response.releasedJobs }, "deregistered");
  }
}
