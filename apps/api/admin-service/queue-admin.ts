import type { Config } from "../../../libs/config/index.js";
import { InvalidArgument, LimitExceeded } from "../../../libs/errors/index.js";
import { type DeadLetterSelector } from "../../../libs/jobs/index.js";
import { resolvePageSize, type PageTokenCodec } from "../../../libs/paging/index.js";
import { JobView, type AdminServiceServer, type DeadLetterSelector as ProtoSelector } from "../../../libs/proto/index.js";
import { validateQueueName, validateUuid } from "../../../libs/validation/index.js";
import type { QueueWaker } from "../../../libs/notifications/index.js";
import type { Edge } from "../edge/handlers.js";
import { jobToProto, queueToProto, reasonFromProto } from "../../../libs/wire/index.js";
import { settingsChangesFromProto, settingsFromProto } from "./queue-messages.js";
import type { ApiStores } from "../stores.js";

/** Most job ids one dead-letter selector may name. */
const MAX_SELECTOR_IDS = 1000;

export interface QueueAdminDeps {
  readonly stores: Pick<ApiStores, "queues" | "deadLetters">;
  readonly config: Config;
  readonly pageTokens: PageTokenCodec;
  readonly waker: QueueWaker;
}

/** The queue and dead-letter part of AdminService (SPEC §4); role `admin`. */
export function queueAdmin(edge: Edge, deps: QueueAdminDeps): Partial<AdminServiceServer> {
  const { stores, config, pageTokens } = deps;

  const withStats = async (name: string) => {
    const q = await stores.queues.getQueue(name);
    return queueToProto(q, (await stores.queues.queueStats([name])).get(name));
  };

  return {
    createQueue: edge.unary("CreateQueue", async (req, ctx) => {
      const name = ctx.principal.scope.require(validateQueueName(req.name, "name"), "name");
      return { queue: queueToProto(await stores.queues.createQueue(name, settingsFromProto(req.settings), req.paused)) };
    }),

    updateQueue: edge.unary("UpdateQueue", async (req, ctx) => {
      const name = ctx.principal.scope.require(validateQueueName(req.name, "name"), "name");
      return { queue: queueToProto(await stores.queues.updateQueue(name, settingsChangesFromProto(req.settings, req.updateMask))) };
    }),

    deleteQueue: edge.unary("DeleteQueue", async (req, ctx) => {
      const name = ctx.principal.scope.require(validateQueueName(req.name, "name"), "name");
      const { deletedJobs, deletedSchedules } = await stores.queues.deleteQueue(name, req.force);
      return { deletedJobs: String(deletedJobs), deletedSchedules };
    }),

    getQueue: edge.unary("GetQueue", async (req, ctx) => ({ queue: await withStats(ctx.principal.scope.require(validateQueueName(req.name, "name"), "name")) })),

    listQueues: edge.unary("ListQueues", async (req, ctx) => {
      const size = resolvePageSize(req.pageSize, config.limits);
      const after = req.pageToken === "" ? null : String(pageTokens.decode("queues", req.pageToken)[0]);
      const all = await stores.queues.listQueues(after, size);
      // A scoped key's page holds only its queues (it may be shorter than page_size).
      const page = { ...all, queues: all.queues.filter((q) => ctx.principal.scope.allows(q.name)) };
      const stats = await stores.queues.queueStats(page.queues.map((q) => q.name));
      const last = all.queues.at(-1);
      return {
        queues: page.queues.map((q) => queueToProto(q, stats.get(q.name))),
        nextPageToken: all.more && last ? pageTokens.encode("queues", [last.name]) : "",
      };
    }),

    pauseQueue: edge.unary("PauseQueue", async (req, ctx) => ({
      queue: queueToProto(await stores.queues.setQueuePaused(ctx.principal.scope.require(validateQueueName(req.name, "name"), "name"), true)),
    })),

    resumeQueue: edge.unary("ResumeQueue", async (req, ctx) => ({
      queue: queueToProto(await stores.queues.setQueuePaused(ctx.principal.scope.require(validateQueueName(req.name, "name"), "name"), false)),
    })),

    listDeadLetters: edge.unary("ListDeadLetters", async (req, ctx) => {
      const selector = toSelector(req.selector, false);
      ctx.principal.scope.requireNamed(selector.queue, "selector.queue");
      const size = resolvePageSize(req.pageSize, config.limits);
      const scope = `dead|${selector.queue ?? ""}|${selector.reasons.join(",")}|${selector.jobIds.join(",")}`;
      const after = req.pageToken === "" ? null : String(pageTokens.decode(scope, req.pageToken)[0]);
      const full = req.view === JobView.FULL;
      if (req.view !== JobView.UNSPECIFIED && req.view !== JobView.BASIC && !full) throw new InvalidArgument("view", `is not a job view (got ${req.view})`);
      const page = await stores.deadLetters.listDeadLetters(selector, after, size, full);
      const last = page.jobs.at(-1);
      return { jobs: page.jobs.map(jobToProto), nextPageToken: page.more && last ? pageTokens.encode(scope, [last.id]) : "" };
    }),

    requeueDeadLetters: edge.unary("RequeueDeadLetters", async (req, ctx) => {
      const selector = toSelector(req.selector, true);
      ctx.principal.scope.requireNamed(selector.queue, "selector.queue");
      if (!Number.isInteger(req.limit) || req.limit < 0) throw new InvalidArgument("limit", "must not be negative");
      const requeued = await stores.deadLetters.actOnDeadLetters(selector, { kind: "requeue", limit: req.limit });
      if (requeued > 0) deps.waker.wake([selector.queue]);
      return { requeuedCount: String(requeued) };
    }),

    purgeDeadLetters: edge.unary("PurgeDeadLetters", async (req, ctx) => {
      const selector = toSelector(req.selector, true);
      ctx.principal.scope.requireNamed(selector.queue, "selector.queue");
      return { purgedCount: String(await stores.deadLetters.actOnDeadLetters(selector, { kind: "purge" })) };
    }),
  };
}

function toSelector(s: ProtoSelector | undefined, queueRequired: true): DeadLetterSelector & { readonly queue: string };
function toSelector(s: ProtoSelector | undefined, queueRequired: false): DeadLetterSelector;
function toSelector(s: ProtoSelector | undefined, queueRequired: boolean): DeadLetterSelector {
  const queue = s?.queue ? validateQueueName(s.queue, "selector.queue") : null;
  if (queueRequired && queue === null) throw new InvalidArgument("selector.queue", "is required, so a bulk action never spans queues by accident");
  const ids = s?.jobIds ?? [];
  if (ids.length > MAX_SELECTOR_IDS) throw new LimitExceeded("selector.job_ids", MAX_SELECTOR_IDS, ids.length, "ids");
  return {
    queue,
    reasons: [...new Set((s?.reasons ?? []).map((r, i) => reasonFromProto(r, `selector.reasons[${i}]`)))].sort(),
    jobIds: ids.map((id, i) => validateUuid(id, `selector.job_ids[${i}]`)),
  };
}
