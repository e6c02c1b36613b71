import type pg from "pg";
import type { Config } from "../../../libs/config/index.js";
import { notifyWorkerControl } from "../../../libs/notifications/index.js";
import { resolvePageSize, type PageTokenCodec } from "../../../libs/paging/index.js";
import { WorkerStatus, type AdminServiceServer } from "../../../libs/proto/index.js";
import { validateQueueName, validateUuid } from "../../../libs/validation/index.js";
import { drainWorker, listWorkers, removeOfflineWorker, type WorkerStatus as DomainWorkerStatus } from "../../../libs/workers/index.js";
import type { Edge } from "../edge/handlers.js";
import { labelFromProto } from "../mapping/job-messages.js";
import { workerToProto } from "../worker-service/worker-messages.js";

const STATUSES: readonly DomainWorkerStatus[] = ["ONLINE", "DRAINING", "OFFLINE"];

/** The worker part of AdminService: ListWorkers, DrainWorker and RemoveWorker (role `admin`). */
export function workerAdmin(edge: Edge, deps: { pool: pg.Pool; config: Config; pageTokens: PageTokenCodec }): Partial<AdminServiceServer> {
  const { pool, config, pageTokens } = deps;
  return {
    listWorkers: edge.unary("ListWorkers", async (req) => {
      const queue = req.queue === "" ? null : validateQueueName(req.queue);
      const statuses = [...new Set(req.statuses.map((s, i) => labelFromProto(WorkerStatus, STATUSES, s, `statuses[${i}]`, "worker status")))].sort();
      const size = resolvePageSize(req.pageSize, config.limits);
      const scope = `workers|${queue ?? ""}|${statuses.join(",")}`;
      const after = req.pageToken === "" ? null : String(pageTokens.decode(scope, req.pageToken)[0]);
      const page = await listWorkers(pool, { queue, statuses }, after, size);
      const last = page.workers.at(-1);
      return { workers: page.workers.map(workerToProto), nextPageToken: page.more && last ? pageTokens.encode(scope, [last.workerId]) : "" };
    }),

    drainWorker: edge.unary("DrainWorker", async (req) => {
      const id = validateUuid(req.workerId, "worker_id");
      const worker = await drainWorker(pool, id);
      // The replica holding its stream tells it at once; its next heartbeat reply says so too.
      await notifyWorkerControl(pool, { kind: "drain", worker: id });
      return { worker: workerToProto(worker) };
    }),

    removeWorker: edge.unary("RemoveWorker", async (req) => {
      await removeOfflineWorker(pool, validateUuid(req.workerId, "worker_id"));
      return {};
    }),
  };
}
