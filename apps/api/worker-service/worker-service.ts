import * as grpc from "@grpc/grpc-js";
import { type FinishVerdict } from "../../../libs/attempts/index.js";
import type { Config } from "../../../libs/config/index.js";
import { DependencyUnavailable, FailedPrecondition, InvalidArgument, NotFound } from "../../../libs/errors/index.js";
import { validateUuid } from "../../../libs/validation/index.js";
import {
  JobStatus,
  ResultAckCode,
  TransitionReason,
  type ReportResultsRequest,
  type ReportResultsResponse,
  type StreamJobsRequest,
  type StreamJobsResponse,
  type WorkerServiceServer,
} from "../../../libs/proto/index.js";
import { isMalformed, malformedRefusal, type Edge } from "../edge/handlers.js";
import { msToDuration } from "../mapping/durations.js";
import { statusToProto } from "../../../libs/events/index.js";
import { workerToProto } from "./worker-messages.js";
import type { WorkerHub } from "./worker-hub.js";
import { WorkerSession } from "./worker-session.js";
import { WorkerCredentials } from "./worker-credentials.js";
import { toFinishRequest, toRegistration, validateWorkerId } from "./worker-requests.js";
import type { ApiStores } from "../stores.js";

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

  const verdictError = (v: FinishVerdict, jobId: string): never => {
    if (v.code === "not_found") throw new NotFound("job", jobId);
    if (v.code === "stale") throw new FailedPrecondition(`stale result: ${v.detail}; nothing changed`);
    throw new Error("unreachable");
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
      const session = new WorkerSession(workerId, worker.queues, worker.concurrency, worker.status === "DRAINING", send);
      // Headers at once tell the client the stream is accepted, before any job exists for it.
      ctx.sendHeaders();
      hub.sessions.add(session)?.close(new FailedPrecondition("replaced by a newer stream of the same worker"));
      ctx.signal.addEventListener("abort", () => session.close(), { once: true });
      // The stream's generation fences its detach: a newer stream (here or on another replica)
      // keeps the worker's row pointing at the replica that serves it.
      let generation: string | undefined;
      try {
        generation = await stores.workers.attachWorkerStream(workerId, deps.nodeId);
        await hub.resync(session);
        if (session.draining) await session.write({ kind: { $case: "drain", value: { message: "the worker is draining" } } });
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
      const workerId = validateWorkerId(req.workerId);
      await credentials.verify(workerId, ctx.metadata);
      const request = toFinishRequest(workerId, req.result, config.limits);
      const verdict = await hub.recordResult(request);
      if (verdict.code !== "accepted") return verdictError(verdict, request.jobId);
      return { jobStatus: statusToProto(verdict.status) };
    }),

    reportResults: (call: grpc.ServerDuplexStream<ReportResultsRequest, ReportResultsResponse>) => {
      const done = edge.begin("ReportResults");
      try {
        edge.admit(call.metadata, {});
      } catch (err) {
        const s = edge.fail("ReportResults", err);
        done(s.code);
        call.emit("error", { code: s.code, details: s.details });
        return;
      }
      call.sendMetadata(new grpc.Metadata());
      let pending = 0;
      let ended = false;
      let closed = false;
      const finish = () => {
        if (ended && pending === 0 && !closed) {
          closed = true;
          hub.resultStreams.delete(shutdown);
          done(grpc.status.OK);
          call.end();
        }
      };
      // At shutdown, once the acks of what arrived are written, the stream ends UNAVAILABLE so the
      // worker sends anything unacknowledged to another replica.
      const shutdown = () => {
        if (closed) return;
        closed = true;
        hub.resultStreams.delete(shutdown);
        done(grpc.status.UNAVAILABLE);
        call.emit("error", { code: grpc.status.UNAVAILABLE, details: "this API replica is shutting down; reconnect" });
      };
      hub.resultStreams.add(shutdown);
      call.on("cancelled", () => {
        closed = true;
        hub.resultStreams.delete(shutdown);
      });
      const ack = (msg: ReportResultsResponse) => {
        if (!closed && !call.cancelled) call.write(msg);
      };
      call.on("data", (msg: ReportResultsRequest) => {
        pending++;
        void (async () => {
          // A message refused for a bad value still decodes (it has no repeated fields) and is
          // acked INVALID by its sequence; one that does not decode at all ends the stream.
          const refusal = isMalformed(msg) ? malformedRefusal(msg, "jq.v1.ReportResultsRequest") : undefined;
          const decoded = (refusal ? refusal.partial : msg) as ReportResultsRequest | undefined;
          const malformed = refusal !== undefined && decoded === undefined;
          const sequence = decoded?.sequence ?? "0";
          try {
            if (refusal) throw refusal.error;
            if (isMalformed(msg)) throw new InvalidArgument("request", "is not a valid jq.v1.ReportResultsRequest message");
            const workerId = validateWorkerId(msg.workerId);
            await credentials.verify(workerId, call.metadata);
            const request = toFinishRequest(workerId, msg.result, config.limits);
            const v = await hub.recordResult(request);
            ack(resultAck(sequence, v));
          } catch (err) {
            const s = edge.fail("ReportResults", err);
            const code = s.code === grpc.status.INVALID_ARGUMENT || s.code === grpc.status.RESOURCE_EXHAUSTED ? ResultAckCode.INVALID : undefined;
            if (code === undefined || malformed) {
              // The result could not be recorded (database down): end the stream so the worker
              // resends unacknowledged results on a new one. An undecodable message has no
              // sequence to acknowledge: it is a protocol error that ends the stream
              // INVALID_ARGUMENT. A wrong worker secret ends it PERMISSION_DENIED.
              if (!closed) {
                closed = true;
                hub.resultStreams.delete(shutdown);
                done(s.code);
                call.emit("error", { code: s.code, details: s.details });
              }
              return;
            }
            ack({ sequence, code, message: s.details, jobStatus: JobStatus.UNSPECIFIED });
          } finally {
            pending--;
            finish();
          }
        })();
      });
      call.on("end", () => {
        ended = true;
        finish();
      });
      call.on("error", () => {});
    },

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

function resultAck(sequence: string, v: FinishVerdict): ReportResultsResponse {
  switch (v.code) {
    case "accepted":
      return { sequence, code: ResultAckCode.ACCEPTED, message: "", jobStatus: statusToProto(v.status) };
    case "stale":
      return { sequence, code: ResultAckCode.STALE, message: v.detail, jobStatus: JobStatus.UNSPECIFIED };
    case "not_found":
      return { sequence, code: ResultAckCode.NOT_FOUND, message: "no such job", jobStatus: JobStatus.UNSPECIFIED };
  }
}
