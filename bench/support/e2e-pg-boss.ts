import { randomBytes } from "node:crypto";
import pg from "pg";
import { PgBoss, type JobInsert } from "pg-boss";
import type { PgBossWorkSettings, WorkerCounts } from "./e2e-protocol.js";
import { countsProblem, type SystemUnderTest } from "./e2e-system.js";
import { startWorkerFleet } from "./e2e-workers.js";
import type { Teardown } from "./teardown.js";

// pg-boss, the baseline of the end-to-end bench: its own database on the same Postgres, a producer
// instance in the bench process (it owns the schema and maintenance, as a producing service would),
// and W worker processes calling `work()` with a no-op handler. There is no server process: the
// producer and the workers talk to Postgres directly.

export const PG_BOSS_QUEUE = "bench-e2e";
const DATABASE = "pgboss_bench";

export interface PgBossSystemOptions {
  /** Any database URL of the server; the bench creates its own database next to it. */
  readonly serverUrl: string;
  readonly workers: number;
  readonly poolMax: number;
  readonly batchSize: number;
  readonly payloadBytes: number;
  readonly settings: PgBossWorkSettings;
}

// $1: queue. pg-boss' job states are an enum ordered created < retry < active < completed < …
const HAS_UNFINISHED = `SELECT EXISTS (SELECT 1 FROM pgboss.job WHERE name = $1 AND state < 'completed') AS unfinished`;
// $1: queue. Index job_i16 (name, completed_on).
const LAST_COMPLETION = `SELECT extract(epoch FROM max(completed_on)) * 1000 AS ms FROM pgboss.job WHERE name = $1 AND completed_on IS NOT NULL`;
// $1: queue. retry_count goes up by one for every attempt after the first.
const COUNT_OUTCOMES = `
  SELECT count(*)::int AS stored,
         count(*) FILTER (WHERE state = 'completed')::int AS completed,
         count(*) FILTER (WHERE retry_count > 0)::int AS retried,
         coalesce(sum(retry_count + 1), 0)::int AS attempts
  FROM pgboss.job WHERE name = $1`;

async function createDatabase(serverUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

export async function startPgBossSystem(options: PgBossSystemOptions, teardown: Teardown): Promise<SystemUnderTest> {
  const connectionString = await createDatabase(options.serverUrl);
  const producer = new PgBoss({ connectionString, application_name: "pgboss-producer", max: options.poolMax, schedule: false });
  producer.on("error", (error: unknown) => process.stderr.write(`bench: pg-boss producer: ${String(error)}\n`));
  await producer.start();
  let producerStopping: Promise<void> | undefined;
  const stopProducer = (): Promise<void> => (producerStopping ??= producer.stop({ graceful: true, close: true, timeout: 5_000 }));
  teardown.add("pg-boss producer", stopProducer);
  await producer.createQueue(PG_BOSS_QUEUE, { notify: options.settings.notify });

  const observer = new pg.Client({ connectionString, application_name: "pgboss-bench-observer" });
  observer.on("error", () => undefined);
  await observer.connect();
  teardown.add("pg-boss observer connection", () => observer.end());

  const workers = await startWorkerFleet(options.workers, "worker", () => ({
    type: "start",
    system: "pg-boss",
    connectionString,
    queue: PG_BOSS_QUEUE,
    settings: options.settings,
  }));
  teardown.add("pg-boss workers", workers.stop, workers.killNow);

  // The same number of payload bytes as jq's jobs, as JSON text.
  const data = { p: randomBytes(Math.ceil(options.payloadBytes / 2)).toString("hex").slice(0, options.payloadBytes) };
  const batch: JobInsert[] = Array.from({ length: options.batchSize }, () => ({ data }));

  let stopping: Promise<readonly WorkerCounts[]> | undefined;
  return {
    name: "pg-boss",
    databaseName: DATABASE,
    servers: [],
    workers,
    workerProcesses: workers.pids.map((pid, i) => ({ label: `worker#${i + 1}`, pid })),
    applicationNames: ["pgboss-producer", "pgboss-worker"],
    batchSize: options.batchSize,
    async submitOne(submittedAtMs) {
      const id = await producer.send(PG_BOSS_QUEUE, submittedAtMs === undefined ? data : { ...data, t: submittedAtMs });
      if (id === null) throw new Error("pg-boss send() returned no id");
      return id;
    },
    async submitBatch() {
      await producer.insert(PG_BOSS_QUEUE, batch);
    },
    async hasUnfinishedJobs() {
      const { rows } = await observer.query<{ unfinished: boolean }>(HAS_UNFINISHED, [PG_BOSS_QUEUE]);
      return rows[0]!.unfinished;
    },
    async lastCompletionMs() {
      const { rows } = await observer.query<{ ms: string | null }>(LAST_COMPLETION, [PG_BOSS_QUEUE]);
      return Number(rows[0]!.ms);
    },
    scrapeServers: async () => [],
    async verify(submitted, workerCounts) {
      const { rows } = await observer.query<{ stored: number; completed: number; retried: number; attempts: number }>(COUNT_OUTCOMES, [PG_BOSS_QUEUE]);
      const counts = { submitted, ...rows[0]!, handlerStarts: workerCounts.reduce((sum, c) => sum + c.started, 0) };
      return { ...counts, problem: countsProblem(counts) };
    },
    stop: () =>
      (stopping ??= (async () => {
        const counts = await workers.stop();
        await stopProducer();
        return counts;
      })()),
  };
}
