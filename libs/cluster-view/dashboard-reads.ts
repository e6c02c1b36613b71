import type pg from "pg";
import { InvalidArgument, NotFound } from "../errors/index.js";
import { getJob, listJobEvents, listJobs, type JobEventRecord } from "../jobs/index.js";
import { JOB_STATUSES } from "../lifecycle/index.js";
import type { Logger } from "../logging/logger.js";
import { loadPageTokenKey, PageTokenCodec, resolvePageSize, type PageLimits } from "../paging/index.js";
import type { HttpRoute } from "../probes/probe-server.js";
import { validateQueueName, validateUuid } from "../validation/index.js";
import { listWorkers, WORKER_STATUSES } from "../workers/index.js";
import type { ActionMode } from "./action-gate.js";
import { getJson } from "./dashboard-http.js";
import { readJobBytesHead } from "./view-queries.js";
import { attemptsFromEvents, eventView, jobDetail, jobSummary, workerView } from "./job-views.js";
import { previewBytes, PREVIEW_BYTES } from "./payload-preview.js";
import type { TimeSeries } from "./time-series.js";

export interface ReadDeps {
  readonly pool: pg.Pool;
  readonly log: Logger;
  readonly mode: ActionMode;
  readonly series: TimeSeries;
}

/** Page sizes of the job and worker lists (`limit`): 50 unless asked, at most 500. */
export const DASHBOARD_PAGE: PageLimits = { defaultPageSize: 50, maxPageSize: 500 };
/** The job page shows at most this many events; a longer log says it was cut. */
export const MAX_TIMELINE_EVENTS = 2_000;
const EVENT_PAGE = 500;

/**
 * The dashboard's JSON reads (GET). Lists page by keyset, like ListJobs: `after` is an opaque,
 * signed token (libs/paging, the same cluster key as the API) bound to the list's filters.
 */
export function readRoutes(deps: ReadDeps): Record<string, HttpRoute> {
  const { pool, log } = deps;
  let codec: Promise<PageTokenCodec> | undefined;
  const tokens = () => (codec ??= loadPageTokenKey(pool).then((key) => new PageTokenCodec(key)).catch((err: unknown) => {
    codec = undefined;
    throw err;
  }));

  return {
    "/api/session": getJson(log, async () => ({ actions: deps.mode })),

    "/api/series": getJson(log, async () => deps.series.toJson()),

    "/api/jobs": getJson(log, async (q) => {
      const queue = optional(q, "queue") === undefined ? null : validateQueueName(optional(q, "queue")!, "queue");
      const statuses = [...new Set(list(q, "status").map((s) => statusParam(JOB_STATUSES, s)))].sort();
      const size = resolvePageSize(intParam(q, "limit"), DASHBOARD_PAGE, "limit");
      const scope = `dashboard-jobs|${queue ?? ""}|${statuses.join(",")}`;
      const after = optional(q, "after");
      const afterId = after === undefined ? null : String((await tokens()).decode(scope, after, "after")[0]);
      const page = await listJobs(pool, { queue, statuses }, { size, afterId, full: false });
      const last = page.jobs.at(-1);
      return { jobs: page.jobs.map(jobSummary), next: page.more && last ? (await tokens()).encode(scope, [last.id]) : null };
    }),

    "/api/job": getJson(log, async (q) => {
      const id = validateUuid(optional(q, "id") ?? "", "id");
      const job = await getJob(pool, id, false);
      if (!job) throw new NotFound("job", id);
      const [bytes, timeline] = await Promise.all([readJobBytesHead(pool, id, PREVIEW_BYTES + 1), readTimeline(pool, id)]);
      return {
        job: jobDetail(job),
        payload: bytes ? previewBytesOfHead(bytes.payloadHead, bytes.payloadSize) : null,
        result: bytes?.resultHead ? previewBytesOfHead(bytes.resultHead, bytes.resultSize ?? 0) : null,
        attempts: attemptsFromEvents(timeline.events),
        events: timeline.events.map(eventView),
        eventsTruncated: timeline.truncated,
      };
    }),

    "/api/workers": getJson(log, async (q) => {
      const statuses = [...new Set(list(q, "status").map((s) => statusParam(WORKER_STATUSES, s)))].sort();
      const size = resolvePageSize(intParam(q, "limit"), DASHBOARD_PAGE, "limit");
      const scope = `dashboard-workers|${statuses.join(",")}`;
      const after = optional(q, "after");
      const afterId = after === undefined ? null : String((await tokens()).decode(scope, after, "after")[0]);
      const page = await listWorkers(pool, { queue: null, statuses }, afterId, size);
      const last = page.workers.at(-1);
      return { workers: page.workers.map(workerView), next: page.more && last ? (await tokens()).encode(scope, [last.workerId]) : null };
    }),
  };
}

/** The head was read one byte past the cap, so the preview knows whether it is cut. */
function previewBytesOfHead(head: Buffer, size: number) {
  const p = previewBytes(head.subarray(0, PREVIEW_BYTES), PREVIEW_BYTES);
  return { ...p, size, truncated: size > PREVIEW_BYTES };
}

async function readTimeline(pool: pg.Pool, jobId: string): Promise<{ events: JobEventRecord[]; truncated: boolean }> {
  const events: JobEventRecord[] = [];
  let after = "0";
  // One event past the cap is read, so a log of exactly the cap is not called cut.
  while (events.length <= MAX_TIMELINE_EVENTS) {
    const want = Math.min(EVENT_PAGE, MAX_TIMELINE_EVENTS + 1 - events.length);
    const page = await listJobEvents(pool, jobId, after, want);
    events.push(...page);
    if (page.length < want) break;
    after = page.at(-1)!.id;
  }
  return { events: events.slice(0, MAX_TIMELINE_EVENTS), truncated: events.length > MAX_TIMELINE_EVENTS };
}

function optional(q: URLSearchParams, name: string): string | undefined {
  const values = q.getAll(name);
  if (values.length > 1) throw new InvalidArgument(name, "is given more than once");
  return values[0] === undefined || values[0] === "" ? undefined : values[0];
}

/** `status=A,B` or `status=A&status=B`. */
function list(q: URLSearchParams, name: string): string[] {
  return q.getAll(name).flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s.length > 0);
}

function intParam(q: URLSearchParams, name: string): number {
  const v = optional(q, name);
  if (v === undefined) return 0;
  if (!/^\d{1,9}$/.test(v)) throw new InvalidArgument(name, `must be a non-negative integer, got ${JSON.stringify(v.slice(0, 20))}`);
  return Number(v);
}

/** A `status` filter value, case-insensitive, as one of `allowed`. */
function statusParam<S extends string>(allowed: readonly S[], s: string): S {
  const up = s.toUpperCase();
  if (!(allowed as readonly string[]).includes(up)) throw new InvalidArgument("status", `must be one of ${allowed.join(", ")}, got ${JSON.stringify(s.slice(0, 40))}`);
  return up as S;
}
