import type { Config } from "../../../libs/config/index.js";
import { InvalidArgument, LimitExceeded, NotFound } from "../../../libs/errors/index.js";
import type { JobStore } from "../../../libs/jobs/index.js";
import { resolvePageSize, type PageTokenCodec } from "../../../libs/paging/index.js";
import { JobView, type JobServiceServer, type SubmitJobRequest, type WatchJobRequest, type WatchJobResponse } from "../../../libs/proto/index.js";
import { validateQueueName, validateUuid } from "../../../libs/validation/index.js";
import type { QueueScope } from "../../../libs/api-keys/index.js";
import type { Edge } from "../edge/handlers.js";
import type { RpcMetrics } from "../edge/rpc-metrics.js";
import { eventToProto, jobToProto, statusFromProto } from "../../../libs/wire/index.js";
import type { QueueWaker } from "../../../libs/notifications/index.js";
import type { JobEventFeed } from "./job-event-feed.js";
import { toNewJob } from "./submit-request.js";
import { watchJobEvents } from "./watch-job.js";

/** job_events.id is a Postgres bigint. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

export interface JobServiceDeps {
  readonly jobs: JobStore;
  readonly config: Config;
  readonly pageTokens: PageTokenCodec;
  readonly feed: JobEventFeed;
  readonly metrics: RpcMetrics;
  readonly waker: QueueWaker;
}

/** JobService (SPEC §4): each handler validates and translates; storage does the work. */
export function jobService(edge: Edge, deps: JobServiceDeps): JobServiceServer {
  const { jobs: store, config, pageTokens } = deps;
  const limits = config.limits;

  // Tenancy (docs/security.md): a job in a queue outside a scoped key's queues does not exist for it.
  const visible = async (scope: QueueScope, id: string) => {
    if (!scope.scoped) return;
    const job = await store.get(id, false);
    if (!job) throw new NotFound("job", id);
    scope.hide(job.queue, "job", id);
  };

  const submit = async (requests: readonly SubmitJobRequest[], prefix: (i: number) => string, scope: QueueScope) => {
    requests.forEach((r, i) => scope.require(r.queue, `${prefix(i)}queue`));
    const jobs = requests.map((r, i) => toNewJob(r, limits, prefix(i)));
    const results = await store.submit(jobs);
    const created = results.filter((r) => !r.deduplicated);
    // One increment per queue, not per job: each one hashes its labels (a batch is up to 1000 jobs).
    const perQueue = new Map<string, number>();
    for (const r of created) perQueue.set(r.job.queue, (perQueue.get(r.job.queue) ?? 0) + 1);
    for (const [queue, n] of perQueue) deps.metrics.jobsSubmitted.inc({ queue }, n);
    // A job handed off at submit is already on its way to a worker: only PENDING ones wake anyone.
    deps.waker.wake(new Set(created.filter((r) => r.handedOff === undefined).map((r) => r.job.queue)));
    return results.map((r) => ({ job: jobToProto(r.job), deduplicated: r.deduplicated }));
  };

  return {
    submitJob: edge.unary("SubmitJob", async (req, ctx) => (await submit([req], () => "", ctx.principal.scope))[0]!),

    submitJobs: edge.unary("SubmitJobs", async (req, ctx) => {
      if (req.jobs.length === 0) throw new InvalidArgument("jobs", "must hold at least one job");
      if (req.jobs.length > limits.maxBatchSize) throw new LimitExceeded("jobs", limits.maxBatchSize, req.jobs.length, "jobs");
      return { results: await submit(req.jobs, (i) => `jobs[${i}].`, ctx.principal.scope) };
    }),

    cancelJob: edge.unary("CancelJob", async (req, ctx) => {
      const id = validateUuid(req.jobId, "job_id");
      if (req.message.length > 1024) throw new LimitExceeded("message", 1024, req.message.length, "characters");
      await visible(ctx.principal.scope, id);
      return { job: jobToProto(await store.cancel(id, req.message || null)) };
    }),

    getJobStatus: edge.unary("GetJobStatus", async (req, ctx) => {
      const id = validateUuid(req.jobId, "job_id");
      const job = await store.get(id, viewIsFull(req.view, true));
      if (!job) throw new NotFound("job", id);
      ctx.principal.scope.hide(job.queue, "job", id);
      return { job: jobToProto(job) };
    }),

    listJobs: edge.unary("ListJobs", async (req, ctx) => {
      const queue = req.queue === "" ? null : validateQueueName(req.queue);
      ctx.principal.scope.requireNamed(queue, "queue");
      const statuses = [...new Set(req.statuses.map((s, i) => statusFromProto(s, `statuses[${i}]`)))].sort();
      const size = resolvePageSize(req.pageSize, limits);
      const scope = `jobs|${queue ?? ""}|${statuses.join(",")}`;
      const afterId = req.pageToken === "" ? null : String(pageTokens.decode(scope, req.pageToken)[0]);
      const page = await store.list({ queue, statuses }, { size, afterId, full: viewIsFull(req.view, false) });
      const last = page.jobs.at(-1);
      return {
        jobs: page.jobs.map(jobToProto),
        nextPageToken: page.more && last ? pageTokens.encode(scope, [last.id]) : "",
      };
    }),

    getJobLogs: edge.unary("GetJobLogs", async (req, ctx) => {
      const id = validateUuid(req.jobId, "job_id");
      await visible(ctx.principal.scope, id);
      const size = resolvePageSize(req.pageSize, limits);
      const scope = `events|${id}`;
      const after = req.pageToken === "" ? "0" : String(pageTokens.decode(scope, req.pageToken)[0]);
      const events = await store.events(id, after, size + 1);
      if (events.length === 0 && after === "0" && !(await store.get(id, false))) throw new NotFound("job", id);
      const page = events.slice(0, size);
      return {
        events: page.map(eventToProto),
        nextPageToken: events.length > size ? pageTokens.encode(scope, [page.at(-1)!.id]) : "",
      };
    }),

    retryJob: edge.unary("RetryJob", async (req, ctx) => {
      const id = validateUuid(req.jobId, "job_id");
      await visible(ctx.principal.scope, id);
      const job = await store.retry(id);
      deps.waker.wake([job.queue]);
      return { job: jobToProto(job) };
    }),

    watchJob: edge.serverStream<WatchJobRequest, WatchJobResponse>(
      "WatchJob",
      async (req, ctx, send) => {
        const id = validateUuid(req.jobId, "job_id");
        if (!/^\d{1,20}$/.test(req.afterEventId) || BigInt(req.afterEventId) > MAX_EVENT_ID) {
          throw new InvalidArgument("after_event_id", `must be an event id between 0 and ${MAX_EVENT_ID}`);
        }
        if (!(await store.get(id, false))) throw new NotFound("job", id);
        await visible(ctx.principal.scope, id);
        await watchJobEvents(deps, id, req.afterEventId, ctx.signal, send);
      },
    ),
  };
}

function viewIsFull(view: JobView, byDefault: boolean): boolean {
  if (view === JobView.UNSPECIFIED) return byDefault;
  if (view === JobView.FULL) return true;
  if (view === JobView.BASIC) return false;
  throw new InvalidArgument("view", `is not a job view (got ${view})`);
}
