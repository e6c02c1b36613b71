import type pg from "pg";
import type { Principal } from "../api-keys/index.js";
import { actOnDeadLetters, cancelJob, retryJob } from "../jobs/index.js";
import type { Logger } from "../logging/logger.js";
import { notifyWorkerControl, type QueueWaker } from "../notifications/index.js";
import type { HttpRoute } from "../probes/probe-server.js";
import { setQueuePaused } from "../queues/index.js";
import { drainWorker } from "../workers/index.js";
import type { ActionGate } from "./action-gate.js";
import { cancelRequest, deadLetterRequest, jobRequest, queueRequest, workerRequest } from "./action-requests.js";
import { HttpRefusal, readJsonBody, sendError, sendJson } from "./dashboard-http.js";
import { jobSummary, queueView, workerView } from "./job-views.js";

export interface ActionDeps {
  /** The health process's own pool; the same lib functions apps/api's handlers call write through it. */
  readonly pool: pg.Pool;
  readonly gate: ActionGate;
  /** Wakes dispatchers after jobs became claimable, as apps/api does after RetryJob and RequeueDeadLetters. */
  readonly waker: QueueWaker;
  readonly log: Logger;
}

type Action = (body: Record<string, unknown>, deps: ActionDeps) => Promise<{ target: string; result: Record<string, unknown> }>;

/**
 * The dashboard's write endpoints (all POST, JSON in and out). Each does what the matching gRPC
 * call does, through the same functions in libs/ (so the job's event log, the outbox and Kafka see
 * the same events), after ActionGate let the caller through. See docs/health.md.
 */
const ACTIONS: Readonly<Record<string, Action>> = {
  "/api/queues/pause": async (body, { pool }) => {
    const { queue } = queueRequest(body);
    return { target: queue, result: { queue: queueView(await setQueuePaused(pool, queue, true)) } };
  },
  "/api/queues/resume": async (body, { pool }) => {
    const { queue } = queueRequest(body);
    return { target: queue, result: { queue: queueView(await setQueuePaused(pool, queue, false)) } };
  },
  "/api/jobs/cancel": async (body, { pool }) => {
    const { jobId, message } = cancelRequest(body);
    return { target: jobId, result: { job: jobSummary(await cancelJob(pool, jobId, message)) } };
  },
  "/api/jobs/retry": async (body, { pool, waker }) => {
    const { jobId } = jobRequest(body);
    const job = await retryJob(pool, jobId);
    waker.wake([job.queue]);
    return { target: jobId, result: { job: jobSummary(job) } };
  },
  "/api/dead-letters/requeue": async (body, { pool, waker }) => {
    const { queue, jobIds } = deadLetterRequest(body);
    const requeued = await actOnDeadLetters(pool, { queue, reasons: [], jobIds }, { kind: "requeue", limit: 0 });
    if (requeued > 0) waker.wake([queue]);
    return { target: queue, result: { requeued } };
  },
  "/api/dead-letters/purge": async (body, { pool }) => {
    const { queue, jobIds } = deadLetterRequest(body);
    return { target: queue, result: { purged: await actOnDeadLetters(pool, { queue, reasons: [], jobIds }, { kind: "purge" }) } };
  },
  "/api/workers/drain": async (body, { pool }) => {
    const { workerId } = workerRequest(body);
    const worker = await drainWorker(pool, workerId);
    // The replica holding its stream tells it at once; its next heartbeat reply says so too.
    await notifyWorkerControl(pool, { kind: "drain", worker: workerId });
    return { target: workerId, result: { worker: workerView(worker) } };
  },
};

export const ACTION_PATHS: readonly string[] = Object.keys(ACTIONS);

export function actionRoutes(deps: ActionDeps): Record<string, HttpRoute> {
  return Object.fromEntries(Object.entries(ACTIONS).map(([path, action]) => [path, actionRoute(path, action, deps)]));
}

function actionRoute(path: string, action: Action, deps: ActionDeps): HttpRoute {
  return async (req, res) => {
    let principal: Principal | undefined;
    try {
      if (req.method !== "POST") {
        res.setHeader("allow", "POST");
        throw new HttpRefusal(405, "method_not_allowed", `${req.method} is not allowed here; actions are POST with a JSON body`);
      }
      principal = deps.gate.admit(req);
      const body = await readJsonBody(req);
      const { target, result } = await action(body, deps);
      // An audit line per action: who (the key's name, never the key), what, on what.
      deps.log.info({ action: path, principal: principal.name, target }, "dashboard action");
      sendJson(req, res, 200, result);
    } catch (err) {
      if (principal !== undefined) deps.log.info({ action: path, principal: principal.name, refused: (err as Error).message }, "dashboard action refused");
      sendError(req, res, err, deps.log);
    }
  };
}
