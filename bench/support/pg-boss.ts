import { randomBytes } from "node:crypto";
import pg from "pg";
import { PgBoss, type JobInsert } from "pg-boss";
import type { SystemOptions } from "./options.js";
import { verification, type SystemUnderTest } from "./system.js";
import type { Teardown } from "./teardown.js";
import { startWorkerFleet } from "./workers.js";

// pg-boss 12 in its own database on the same Postgres: a producer instance in the bench process
// (it owns the schema and maintenance, as a producing service would) and W worker processes
// calling work() with a no-op handler (settings in worker.ts). No server process: the producer
// and the workers talk to Postgres themselves. Its job table is read to know when jobs completed.

const QUEUE = "bench-e2e";

// $1: queue. Job states are an enum ordered created < retry < active < completed < …
const HAS_UNFINISHED = `SELECT EXISTS (SELECT 1 FROM pgboss.job WHERE name = $1 AND state < 'completed') AS unfinished`;
const LAST_COMPLETION = `SELECT extract(epoch FROM max(completed_on)) * 1000 AS ms FROM pgboss.job WHERE name = $1 AND completed_on IS NOT NULL`;
const COUNT_OUTCOMES = `
  SELECT count(*)::int AS stored, count(*) FILTER (WHERE state = 'completed' AND retry_count = 0)::int AS completed
  FROM pgboss.job WHERE name = $1`;

export async function startPgBoss(connectionString: string, options: SystemOptions, teardown: Teardown): Promise<SystemUnderTest> {
  const producer = new PgBoss({ connectionString, application_name: "pgboss-producer", max: options.poolMax, schedule: false });
  producer.on("error", (error: unknown) => process.stderr.write(`bench: pg-boss producer: ${String(error)}\n`));
  await producer.start();
  let producerStopping: Promise<void> | undefined;
  const stopProducer = (): Promise<void> => (producerStopping ??= producer.stop({ graceful: true, close: true, timeout: 5_000 }));
  teardown.add("pg-boss producer", stopProducer);
  // notify: each insert wakes the listening workers, so a job does not wait for the next poll.
  await producer.createQueue(QUEUE, { notify: true });
  const observer = new pg.Client({ connectionString, application_name: "pgboss-bench-observer" });
  observer.on("error", () => undefined);
  await observer.connect();
  let observerQueries = 0;
  const observe = <T extends pg.QueryResultRow>(text: string) => (observerQueries++, observer.query<T>(text, [QUEUE]));
  teardown.add("pg-boss observer connection", () => observer.end().catch(() => undefined));
  const workers = await startWorkerFleet(options.workers, () => ({ type: "start", system: "pg-boss", connectionString, queue: QUEUE, concurrency: options.concurrency }));
  teardown.add("pg-boss workers", workers.stop, workers.killNow);

  // As many payload bytes as jq's jobs, as JSON text.
  const data = { p: randomBytes(options.payloadBytes).toString("hex").slice(0, options.payloadBytes) };
  const batch: JobInsert[] = Array.from({ length: options.batchSize }, () => ({ data }));
  return {
    name: "pg-boss",
    databaseName: new URL(connectionString).pathname.slice(1),
    processes: workers.pids.map((pid, i) => ({ label: `worker#${i + 1}`, pid })),
    workers,
    batchSize: options.batchSize,
    benchCommits: () => observerQueries,
    async submitOne(submittedAtMs) {
      const id = await producer.send(QUEUE, submittedAtMs === undefined ? data : { ...data, t: submittedAtMs });
      if (id === null) throw new Error("pg-boss send() returned no id");
      return id;
    },
    async submitBatch() {
      await producer.insert(QUEUE, batch);
    },
    async allCompleted() {
      const { rows } = await observe<{ unfinished: boolean }>(HAS_UNFINISHED);
      return !rows[0]!.unfinished;
    },
    async lastCompletionMs() {
      const { rows } = await observe<{ ms: string | null }>(LAST_COMPLETION);
      return Number(rows[0]!.ms);
    },
    async finish(submitted) {
      const progress = await workers.stop();
      await stopProducer();
      const { rows } = await observe<{ stored: number; completed: number }>(COUNT_OUTCOMES);
      await observer.end();
      return verification({ submitted, ...rows[0]!, handlerStarts: progress.started });
    },
  };
}
