import { NotFound } from "../../../libs/errors/index.js";
import type { Config } from "../../../libs/config/index.js";
import { resolvePageSize, type PageTokenCodec } from "../../../libs/paging/index.js";
import type { AdminServiceServer } from "../../../libs/proto/index.js";
import { validateQueueName, validateUuid } from "../../../libs/validation/index.js";
import type { Edge } from "../edge/handlers.js";
import type { QueueScope } from "../../../libs/api-keys/index.js";
import { workerStatusFromProto, workerToProto } from "../../../libs/wire/index.js";
import type { ApiStores } from "../stores.js";

/** The worker part of AdminService: ListWorkers, DrainWorker and RemoveWorker (role `admin`). */
export function workerAdmin(edge: Edge, deps: { stores: Pick<ApiStores, "workers">; config: Config; pageTokens: PageTokenCodec }): Partial<AdminServiceServer> {
  const { stores, config, pageTokens } = deps;
  return {
    listWorkers: edge.unary("ListWorkers", async (req, ctx) => {
      const queue = req.queue === "" ? null : validateQueueName(req.queue);
      ctx.principal.scope.requireNamed(queue, "queue");
      const statuses = [...new Set(req.statuses.map((s, i) => workerStatusFromProto(s, `statuses[${i}]`)))].sort();
      const size = resolvePageSize(req.pageSize, config.limits);
      const scope = `workers|${queue ?? ""}|${statuses.join(",")}`;
      const after = req.pageToken === "" ? null : String(pageTokens.decode(scope, req.pageToken)[0]);
      const page = await stores.workers.listWorkers({ queue, statuses }, after, size);
      const last = page.workers.at(-1);
      // A scoped key sees only workers whose every queue it may see (their queue list is shown).
      const seen = page.workers.filter((w) => w.queues.every((q) => ctx.principal.scope.allows(q)));
      return { workers: seen.map(workerToProto), nextPageToken: page.more && last ? pageTokens.encode(scope, [last.workerId]) : "" };
    }),

    drainWorker: edge.unary("DrainWorker", async (req, ctx) => {
      const id = validateUuid(req.workerId, "worker_id");
      await visibleWorker(stores.workers, ctx.principal.scope, id);
      const worker = await stores.workers.drainWorker(id);
      // The replica holding its stream tells it at once; its next heartbeat reply says so too.
      await stores.workers.notifyWorkerControl({ kind: "drain", worker: id });
      return { worker: workerToProto(worker) };
    }),

    removeWorker: edge.unary("RemoveWorker", async (req, ctx) => {
      const id = validateUuid(req.workerId, "worker_id");
      await visibleWorker(stores.workers, ctx.principal.scope, id);
      await stores.workers.removeOfflineWorker(id);
      return {};
    }),
  };
}

/** A worker serving a queue outside a scoped key's queues does not exist for it. */
async function visibleWorker(workers: ApiStores["workers"], scope: QueueScope, id: string): Promise<void> {
  if (!scope.scoped) return;
  const worker = await workers.getWorker(id);
  if (!worker.queues.every((q) => scope.allows(q))) throw new NotFound("worker", id);
}
