import type * as grpc from "@grpc/grpc-js";
import type { Config } from "../../../libs/config/index.js";
import { DependencyUnavailable, FailedPrecondition, NotFound } from "../../../libs/errors/index.js";
import {
  TransitionReason,
  type JobResult,
  type ReportResultsRequest,
  type ReportResultsResponse,
  type StreamJobsRequest,
  type StreamJobsResponse,
  type WorkerServiceServer,
} from "../../../libs/proto/index.js";
import { validateUuid } from "../../../libs/validation/index.js";
import { statusOfVerdict } from "../../../libs/worker-results/index.js";
import { msToDuration, statusToProto, workerToProto } from "../../../libs/wire/index.js";
import type { Edge } from "../edge/handlers.js";
import type { ApiStores } from "../stores.js";
import { assignmentBatching } from "./assignment-messages.js";
import { serveResultStream } from "./result-stream-call.js";
import { WorkerCredentials } from "./worker-credentials.js";
import type { WorkerHub } from "./worker-hub.js";
import { toFinishRequest, toRegistration, validateWorkerId } from "./worker-requests.js";
import { WorkerSession } from "./worker-session.js";

export interface WorkerServiceDeps {
  readonly stores: Pick<ApiStores, "workers" | "queues">;
  readonly config: Config;
  readonly hub: WorkerHub;
  readonly nodeId: string;
}

/** WorkerService (SPEC §4, §5): registration, heartbeats, the job stream and results. */
export function workerService(edge: Edge, deps: WorkerServiceDeps): WorkerServiceServer {
  const { stores, config, hub } = deps;
  const interval = config.workers.heartbeatIntervalMs;
  const credentials = new WorkerCredentials(stores.workers);

  // One operation for a reported result, unary or streamed: who may report it, what it says, and
  // recording it (results of many calls share one transaction, ResultBatcher).
  const recordReported = async (rawWorkerId: string, result: JobResult | undefined, metadata: grpc.Metadata) => {
    const workerId = validateWorkerId(rawWorkerId);
    await credentials.verify(workerId, metadata);
    const request = toFinishRequest(workerId, result, config.limits);
    return { request, verdict: await hub.recordResult(request) };
  };

  return {
    registerWorker: edge.unary("RegisterWorker", async (req, ctx) => {
      const registration = toRegistration(req, config.limits);
      registration.queues.forEach((q, i) => ctx.principal.scope.require(q, `queues[${i}]`));
      await credentials.checkRegistration(registration.workerId, ctx.metadata, ctx.principal);
      // A registration starts a new incarnation: whatever the id still held belongs to a process
      // that restarted (or lost its session) and will never report it, so it goes back at once,
      // and a stream of the old incarnation still open here is ended.
      hub.sessions.get(registration.workerId)?.close(new FailedPrecondition("the worker registered again; open a new stream"));
      await hub.marks.flushWorker(registration.workerId);
      await stores.workers.releaseWorkerJobs(registration.workerId, "worker registered again with the job unfinished");
      const worker = await stores.workers.registerWorker(registration);
      const workerSecret = await credentials.issue(registration.workerId, ctx.principal);
      const known = await stores.queues.existingQueueNames(registration.queues);
      return {
        worker: workerToProto(worker),
        heartbeatInterval: msToDuration(interval),
        heartbeatTimeout: msToDuration(config.workers.heartbeatTimeoutMs),
        unknownQueues: registration.queues.filter((q) => !known.has(q)),
        workerSecret,
      };
    }),

    heartbeat: edge.unary("Heartbeat", async (req, ctx) => {
      const workerId = validateWorkerId(req.workerId);
      await credentials.verify(workerId, ctx.metadata);
      const held = req.heldJobs.map((h, i) => ({ jobId: validateUuid(h.jobId, `held_jobs[${i}].job_id`), attempt: h.attempt }));
      const answer = await hub.heartbeats.beat({ workerId, held, complete: req.heldJobsComplete });
      if (answer.status === undefined) throw new NotFound("worker", workerId);
      if (answer.status === "OFFLINE") throw new FailedPrecondition(`worker ${workerId} is OFFLINE: its jobs were handed back; register again`);
      return {
        drain: answer.status === "DRAINING",
        cancellations: answer.stale.map((s) => ({
          jobId: s.jobId,
          attempt: s.attempt,
          reason: TransitionReason[s.reason as keyof typeof TransitionReason] ?? TransitionReason.UNSPECIFIED,
          message: s.message,
        })),
        nextHeartbeatIn: msToDuration(interval),
      };
    }),

    streamJobs: edge.serverStream<StreamJobsRequest, StreamJobsResponse>("StreamJobs", async (req, ctx, send) => {
      const workerId = validateWorkerId(req.workerId);
      await credentials.verify(workerId, ctx.metadata);
      if (!hub.accepting) throw new DependencyUnavailable("this API replica (shutting down); reconnect");
      const worker = await stores.workers.getWorker(workerId);
      if (worker.status === "OFFLINE") throw new FailedPrecondition(`worker ${workerId} is OFFLINE; register again`);
      const session = new WorkerSession(workerId, worker.queues, worker.concurrency, worker.status === "DRAINING", send, assignmentBatching(req, config.grpc.maxMessageBytes));
      // Headers at once tell the client the stream is accepted, before any job exists for it.
      ctx.sendHeaders();
      hub.sessions.add(session)?.close(new FailedPrecondition("replaced by a newer stream of the same worker"));
      ctx.signal.addEventListener("abort", () => session.close(), { once: true });
      // The stream's generation fences its detach: a newer stream (here or on another replica)
      // keeps the worker's row pointing at the replica that serves it.
      let generation: string | undefined;
      try {
        const attached = await stores.workers.attachWorkerStream(workerId, deps.nodeId);
        generation = attached?.generation;
        // The session is registered now, so later drains reach it; one that came before shows here.
        if (attached === undefined || attached.status === "OFFLINE") throw new FailedPrecondition(`worker ${workerId} is OFFLINE; register again`);
        if (attached.status === "DRAINING") session.draining = true;
        await hub.resync(session);
        if (session.draining) await session.drain("the worker is draining");
        hub.dispatcher.wakeSession(session);
        const ending = await session.whenClosed();
        if (ending) throw ending;
      } finally {
        session.close();
        hub.sessions.remove(session);
        await hub.marks.flushWorker(workerId);
        if (generation !== undefined) await stores.workers.detachWorkerStream(workerId, generation).catch(() => {});
      }
    }),

    reportResult: edge.unary("ReportResult", async (req, ctx) => {
      const { request, verdict } = await recordReported(req.workerId, req.result, ctx.metadata);
      return { jobStatus: statusToProto(statusOfVerdict(verdict, request.jobId)) };
    }),

    reportResults: (call: grpc.ServerDuplexStream<ReportResultsRequest, ReportResultsResponse>) =>
      serveResultStream(call, edge, hub.resultStreams, config.grpc.maxMessageBytes, async (workerId, result) => (await recordReported(workerId, result, call.metadata)).verdict),

    deregister: edge.unary("Deregister", async (req, ctx) => {
      const workerId = validateWorkerId(req.workerId);
      await credentials.verify(workerId, ctx.metadata);
      const previous = await stores.workers.markWorkerOffline(workerId);
      if (previous === undefined) throw new NotFound("worker", workerId);
      const local = hub.sessions.get(workerId);
      if (local) local.close();
      else await stores.workers.notifyWorkerControl({ kind: "offline", worker: workerId });
      if (previous === "OFFLINE") return { releasedJobs: 0 };
      await hub.marks.flushWorker(workerId);
      return { releasedJobs: await stores.workers.releaseWorkerJobs(workerId, "worker deregistered with the job unfinished") };
    }),
  };
}
