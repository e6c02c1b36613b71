import { randomBytes } from "node:crypto";
import pg from "pg";
import type { SubmitJobRequest } from "../../libs/proto/index.js";
import { scrapeApiMetrics } from "./api-metrics.js";
import { startBenchApi, type BenchApi } from "./bench-api.js";
import type { WorkerCounts } from "./e2e-protocol.js";
import { countsProblem, type SystemUnderTest } from "./e2e-system.js";
import { startWorkerFleet } from "./e2e-workers.js";
import type { Teardown } from "./teardown.js";

// jq as an operator would run it for the end-to-end bench: N apps/api processes on one database,
// W worker processes running the worker SDK (each connected to one api, round robin), and the
// bench submitting through JqClient, one api after the other.

export const JQ_QUEUE = "bench.e2e";

export interface JqSystemOptions {
  readonly databaseUrl: string;
  readonly apis: number;
  readonly workers: number;
  readonly concurrency: number;
  readonly poolMax: number;
  readonly batchSize: number;
  readonly payloadBytes: number;
  /** NODE_OPTIONS of the apps/api processes (e.g. --cpu-prof); none by default. */
  readonly apiNodeOptions: string | undefined;
}

// $1: queue. Index jobs_queue_status_id_idx answers it with one probe per status.
const HAS_UNFINISHED = `SELECT EXISTS (SELECT 1 FROM jobs WHERE queue = $1 AND status IN ('PENDING', 'ASSIGNED', 'RUNNING', 'FAILED')) AS unfinished`;
// $1: queue. Index jobs_finished_idx.
const LAST_COMPLETION = `SELECT extract(epoch FROM max(completed_at)) * 1000 AS ms FROM jobs WHERE queue = $1 AND status IN ('DONE', 'DEAD_LETTERED')`;
// $1: queue.
const COUNT_OUTCOMES = `
  SELECT count(*)::int AS stored,
         count(*) FILTER (WHERE status = 'DONE')::int AS completed,
         count(*) FILTER (WHERE attempt > 1)::int AS retried,
         coalesce(sum(attempt), 0)::int AS attempts
  FROM jobs WHERE queue = $1`;

export async function startJqSystem(options: JqSystemOptions, teardown: Teardown): Promise<SystemUnderTest> {
  const apis: BenchApi[] = [];
  for (let i = 1; i <= options.apis; i++) {
    const api = await startBenchApi({
      databaseUrl: options.databaseUrl,
      poolMax: options.poolMax,
      maxBatchSize: Math.max(1000, options.batchSize),
      nodeId: `bench-api-${i}`,
      ...(options.apiNodeOptions === undefined ? {} : { nodeOptions: options.apiNodeOptions }),
    });
    teardown.add(`apps/api #${i}`, api.stop, api.killNow);
    apis.push(api);
  }
  const observer = new pg.Client({ connectionString: options.databaseUrl, application_name: "jq-bench-observer" });
  observer.on("error", () => undefined);
  await observer.connect();
  teardown.add("jq observer connection", () => observer.end());

  await apis[0]!.client.call(apis[0]!.client.admin, "createQueue", { name: JQ_QUEUE, paused: false });
  const workers = await startWorkerFleet(options.workers, "worker", (i) => ({
    type: "start",
    system: "jq",
    address: apis[i % apis.length]!.address,
    queue: JQ_QUEUE,
    concurrency: options.concurrency,
  }));
  teardown.add("jq workers", workers.stop, workers.killNow);

  const payload = randomBytes(options.payloadBytes);
  const job = (metadata: Record<string, string>): SubmitJobRequest => ({ queue: JQ_QUEUE, payload, metadata, priority: 0, idempotencyKey: "" });
  const batch = { jobs: Array.from({ length: options.batchSize }, () => job({})) };
  let next = 0;
  const nextClient = () => apis[next++ % apis.length]!.client;

  let stopping: Promise<readonly WorkerCounts[]> | undefined;
  return {
    name: "jq",
    databaseName: new URL(options.databaseUrl).pathname.slice(1),
    servers: apis.map((api, i) => ({ label: `api#${i + 1}`, pid: api.pid })),
    workers,
    workerProcesses: workers.pids.map((pid, i) => ({ label: `worker#${i + 1}`, pid })),
    applicationNames: ["jq-api"],
    batchSize: options.batchSize,
    async submitOne(submittedAtMs) {
      const client = nextClient();
      const response = await client.call(client.jobs, "submitJob", job(submittedAtMs === undefined ? {} : { t: String(submittedAtMs) }));
      return response.job?.id ?? "";
    },
    async submitBatch() {
      const client = nextClient();
      await client.call(client.jobs, "submitJobs", batch);
    },
    async hasUnfinishedJobs() {
      const { rows } = await observer.query<{ unfinished: boolean }>(HAS_UNFINISHED, [JQ_QUEUE]);
      return rows[0]!.unfinished;
    },
    async lastCompletionMs() {
      const { rows } = await observer.query<{ ms: string | null }>(LAST_COMPLETION, [JQ_QUEUE]);
      return Number(rows[0]!.ms);
    },
    scrapeServers: () => Promise.all(apis.map(async (api, i) => ({ label: `api#${i + 1}`, metrics: await scrapeApiMetrics(api.httpPort) }))),
    async verify(submitted, workerCounts) {
      const { rows } = await observer.query<{ stored: number; completed: number; retried: number; attempts: number }>(COUNT_OUTCOMES, [JQ_QUEUE]);
      const counts = { submitted, ...rows[0]!, handlerStarts: workerCounts.reduce((sum, c) => sum + c.started, 0) };
      const refused = workerCounts.reduce((sum, c) => sum + (c.sdk?.stale ?? 0) + (c.sdk?.invalid ?? 0) + (c.sdk?.cancelled ?? 0), 0);
      return { ...counts, problem: countsProblem(counts) ?? (refused > 0 ? `${refused} results were refused or voided` : undefined) };
    },
    stop: () =>
      (stopping ??= (async () => {
        const counts = await workers.stop();
        for (const api of apis) await api.stop();
        return counts;
      })()),
  };
}
