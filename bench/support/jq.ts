import { randomBytes } from "node:crypto";
import { JqClient } from "../../libs/client/index.js";
import type { SubmitJobRequest } from "../../libs/proto/index.js";
import { findFreePort } from "../../test/bed/free-port.js";
import { waitUntil } from "../../test/bed/wait-until.js";
import { startApp } from "../../test/support/app-process.js";
import type { SystemOptions } from "./options.js";
import { verification, type SystemUnderTest } from "./system.js";
import type { Teardown } from "./teardown.js";
import { startWorkerFleet } from "./workers.js";

// jq as an operator runs it: N apps/api processes (node dist/apps/api/main.js) on one database,
// W worker processes running the worker SDK (round robin over the apis), and the bench
// submitting through JqClient (no retries: a failed call counts as failed), one api after the other.
// Only public interfaces are read: a job has completed when the SDK's result was acknowledged
// with the job DONE, and the verification counts the queue's depth from AdminService.GetQueue.

const QUEUE = "bench.e2e";

export interface Api {
  readonly pid: number;
  readonly address: string;
  readonly client: JqClient;
  stop(): Promise<void>;
}

/** One apps/api. At JQ_LOG_LEVEL=warn it logs no "ready" line, so it gets fixed ports and readiness is /readyz. */
export async function startApi(
  databaseUrl: string,
  options: Pick<SystemOptions, "poolMax" | "batchSize"> & Partial<Pick<SystemOptions, "cpuProfDir" | "apiEnv">>,
  nodeId: string,
  teardown: Teardown,
): Promise<Api> {
  const [grpcPort, httpPort] = [await findFreePort(), await findFreePort()];
  const app = startApp("api", {
    JQ_DATABASE_URL: databaseUrl,
    JQ_DATABASE_POOL_MAX: String(options.poolMax),
    JQ_MAX_BATCH_SIZE: String(Math.max(1000, options.batchSize)),
    JQ_GRPC_PORT: String(grpcPort),
    JQ_API_HTTP_PORT: String(httpPort),
    JQ_LOG_LEVEL: "warn",
    JQ_NODE_ID: nodeId,
    ...options.apiEnv,
    ...(options.cpuProfDir === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${options.cpuProfDir} --cpu-prof-name=${nodeId}.cpuprofile` }),
  });
  const address = `127.0.0.1:${grpcPort}`;
  const client = new JqClient({ address, maxAttempts: 1 });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      client.close();
      await app.stop();
    })());
  teardown.add(nodeId, stop, () => app.child.kill("SIGKILL"));
  let exitCode: number | string | undefined;
  void app.exited().then((code) => (exitCode = code));
  await waitUntil(
    async () => {
      const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      if (response.status !== 200) throw new Error(`/readyz answered ${response.status}`);
    },
    { what: "apps/api", timeoutMs: 30_000, gaveUp: () => (exitCode === undefined ? undefined : `exited (${exitCode}); stderr: ${app.stderr()}`) },
  );
  return { pid: app.child.pid ?? -1, address, client, stop };
}

export async function startJq(databaseUrl: string, options: SystemOptions, teardown: Teardown): Promise<SystemUnderTest> {
  const apis: Api[] = [];
  for (let i = 1; i <= options.apis; i++) apis.push(await startApi(databaseUrl, options, `bench-api-${i}`, teardown));
  await apis[0]!.client.call(apis[0]!.client.admin, "createQueue", { name: QUEUE, paused: false });
  const workers = await startWorkerFleet(options.workers, (i) => ({ type: "start", system: "jq", address: apis[i % apis.length]!.address, queue: QUEUE, concurrency: options.concurrency }));
  teardown.add("jq workers", workers.stop, workers.killNow);

  const payload = randomBytes(options.payloadBytes);
  const job = (metadata: Record<string, string>): SubmitJobRequest => ({ queue: QUEUE, payload, metadata, priority: 0, idempotencyKey: "" });
  const batch = { jobs: Array.from({ length: options.batchSize }, () => job({})) };
  let next = 0;
  const nextClient = () => apis[next++ % apis.length]!.client;
  return {
    name: "jq",
    databaseName: new URL(databaseUrl).pathname.slice(1),
    processes: [...apis.map((api, i) => ({ label: `api#${i + 1}`, pid: api.pid })), ...workers.pids.map((pid, i) => ({ label: `worker#${i + 1}`, pid }))],
    workers,
    batchSize: options.batchSize,
    benchCommits: () => 0,
    async submitOne(submittedAtMs) {
      const client = nextClient();
      const response = await client.call(client.jobs, "submitJob", job(submittedAtMs === undefined ? {} : { t: String(submittedAtMs) }));
      return response.job?.id ?? "";
    },
    async submitBatch() {
      const client = nextClient();
      await client.call(client.jobs, "submitJobs", batch);
    },
    allCompleted: async (submitted) => workers.progress().completed >= submitted,
    lastCompletionMs: async () => workers.progress().lastCompletedAtMs,
    async finish(submitted) {
      const progress = await workers.stop();
      const { queue } = await apis[0]!.client.call(apis[0]!.client.admin, "getQueue", { name: QUEUE });
      const depth = queue?.stats?.depth;
      const stored = Object.values(depth ?? {}).reduce((sum: number, n) => sum + Number(n), 0);
      for (const api of apis) await api.stop();
      return verification({ submitted, stored, completed: Number(depth?.done ?? 0), handlerStarts: progress.started }, progress.refused);
    },
  };
}
