import { WorkerStatus, type Worker } from "../../../libs/proto/index.js";
import type { WorkerRecord } from "../../../libs/workers/index.js";

export function workerToProto(w: WorkerRecord): Worker {
  return {
    id: w.workerId,
    hostname: w.hostname,
    status: WorkerStatus[w.status],
    queues: w.queues,
    concurrency: w.concurrency,
    labels: w.labels,
    sdkVersion: w.sdkVersion,
    nodeId: w.nodeId ?? "",
    activeJobs: w.activeJobs,
    registeredAt: w.registeredAt,
    lastHeartbeatAt: w.lastHeartbeat,
  };
}
