import type { Config } from "../../../libs/config/index.js";
import { resolvePageSize, type PageTokenCodec } from "../../../libs/paging/index.js";
import type { AdminServiceServer } from "../../../libs/proto/index.js";
import { nextCronRun } from "../../../libs/schedules/index.js";
import { NotFound } from "../../../libs/errors/index.js";
import {
  validateMetadata,
  validateNonNegativeInt,
  validatePayload,
  validatePriority,
  validateQueueName,
} from "../../../libs/validation/index.js";
import type { Edge } from "../edge/handlers.js";
import { durationToWholeSeconds, scheduleToProto } from "../../../libs/wire/index.js";
import type { ApiStores } from "../stores.js";

/** The recurring-schedule part of AdminService (SPEC §4, §7); role `admin`. */
export function scheduleAdmin(edge: Edge, deps: { stores: Pick<ApiStores, "schedules">; config: Config; pageTokens: PageTokenCodec }): Partial<AdminServiceServer> {
  const { stores, config, pageTokens } = deps;
  return {
    createSchedule: edge.unary("CreateSchedule", async (req, ctx) => {
      const name = validateQueueName(req.name, "name");
      const queue = ctx.principal.scope.require(validateQueueName(req.queue, "queue"), "queue");
      const timeZone = req.timeZone === "" ? "UTC" : req.timeZone;
      const cron = req.cron.trim();
      nextCronRun(cron, timeZone);
      const schedule = await stores.schedules.createSchedule({
        name,
        queue,
        cron,
        timeZone,
        enabled: req.enabled ?? true,
        payload: Buffer.from(validatePayload(req.payload, config.limits)),
        priority: validatePriority(req.priority),
        metadata: validateMetadata(req.metadata, config.limits),
        maxRetries: req.maxRetries === undefined ? null : validateNonNegativeInt(req.maxRetries, "max_retries", 1_000_000),
        timeoutSeconds: req.timeout === undefined ? null : durationToWholeSeconds(req.timeout, "timeout"),
      });
      return { schedule: scheduleToProto(schedule) };
    }),

    listSchedules: edge.unary("ListSchedules", async (req, ctx) => {
      const queue = req.queue === "" ? null : validateQueueName(req.queue);
      ctx.principal.scope.requireNamed(queue, "queue");
      const size = resolvePageSize(req.pageSize, config.limits);
      const scope = `schedules|${queue ?? ""}`;
      const after = req.pageToken === "" ? null : String(pageTokens.decode(scope, req.pageToken)[0]);
      const page = await stores.schedules.listSchedules(queue, after, size);
      const last = page.schedules.at(-1);
      return { schedules: page.schedules.map(scheduleToProto), nextPageToken: page.more && last ? pageTokens.encode(scope, [last.name]) : "" };
    }),

    deleteSchedule: edge.unary("DeleteSchedule", async (req, ctx) => {
      const name = validateQueueName(req.name, "name");
      if (ctx.principal.scope.scoped) {
        const schedule = await stores.schedules.getSchedule(name);
        if (!schedule) throw new NotFound("schedule", name);
        ctx.principal.scope.hide(schedule.queue, "schedule", name);
      }
      await stores.schedules.deleteSchedule(name);
      return {};
    }),
  };
}
