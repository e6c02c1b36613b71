// One worker process of bench/e2e.ts, forked by workers.ts with the bench's loader flags (so tsx
// runs it). It runs the jq worker SDK, pg-boss' work() or a BullMQ Worker with a no-op handler,
// counts the handlers it starts and, for jobs that carry their submit time (`t`), keeps when each
// one started. It exits when told to stop or when the bench goes away (the IPC channel closes).
import { Worker as BullWorker } from "bullmq";
import { PgBoss } from "pg-boss";
import { JobStatus } from "../../libs/proto/index.js";
import { Worker } from "../../libs/worker-sdk/index.js";
import { epochMs, type ParentMessage, type Progress, type StartMessage, type StartSample, type WorkerMessage } from "./protocol.js";

/** pg-boss at its best for no-op jobs: big fetches, refetch at once while full, NOTIFY wakes it. */
export const PG_BOSS_WORK = { batchSize: 500, localConcurrency: 1, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true } as const;

let started = 0;
let completed = 0;
let lastCompletedAtMs = 0;
let samples: StartSample[] = [];
let close: () => Promise<void> = async () => undefined;
let refused: () => number = () => 0;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** The no-op work: count the start, and keep its time when the job says when it was submitted. */
function recordStart(id: string, submittedAt: string | number | undefined): void {
  const now = epochMs();
  started++;
  if (submittedAt !== undefined) samples.push([id, Number(submittedAt), now]);
}

function completedNow(): void {
  completed++;
  lastCompletedAtMs = epochMs();
}

async function start(message: StartMessage): Promise<void> {
  if (message.system === "jq") {
    const worker = new Worker({ address: message.address, queues: [message.queue], concurrency: message.concurrency, handler: (job) => recordStart(job.id, job.metadata.t) });
    // The api acknowledged the result with the job DONE: it is committed.
    worker.on("job:done", (event) => event.outcome === "succeeded" && event.jobStatus === JobStatus.DONE && completedNow());
    await worker.start();
    close = () => worker.close();
    refused = () => worker.stats.stale + worker.stats.invalid + worker.stats.cancelled;
  } else if (message.system === "pg-boss") {
    // The producer (in the bench) owns the schema and maintenance; a worker only works.
    const boss = new PgBoss({ connectionString: message.connectionString, application_name: "pgboss-worker", migrate: false, supervise: false, schedule: false, useListenNotify: true });
    boss.on("error", (error: unknown) => process.stderr.write(`worker (pg-boss): ${String(error)}\n`));
    await boss.start();
    await boss.work<{ t?: number }>(message.queue, PG_BOSS_WORK, async (jobs) => {
      for (const job of jobs) recordStart(job.id, job.data.t);
    });
    close = () => boss.stop({ graceful: true, close: true, timeout: 10_000 });
  } else {
    const url = new URL(message.redisUrl);
    const worker = new BullWorker<{ t?: number }>(message.queue, async (job) => recordStart(job.id ?? "", job.data.t), {
      connection: { host: url.hostname, port: Number(url.port) },
      concurrency: message.concurrency,
    });
    worker.on("completed", completedNow);
    worker.on("error", (error) => process.stderr.write(`worker (bullmq): ${String(error)}\n`));
    await worker.waitUntilReady();
    close = () => worker.close();
  }
}

const progress = (): Progress => ({ started, completed, lastCompletedAtMs, refused: refused() });
let lastSent = "";
const progressTimer = setInterval(() => {
  const now = progress();
  if (JSON.stringify(now) === lastSent) return;
  lastSent = JSON.stringify(now);
  void send({ type: "progress", ...now });
}, 50);

async function onMessage(message: ParentMessage): Promise<void> {
  if (message.type === "start") {
    await start(message);
    await send({ type: "ready" });
  } else if (message.type === "collect") {
    const collected = samples;
    samples = [];
    await send({ type: "collected", samples: collected });
  } else {
    clearInterval(progressTimer);
    await close();
    await send({ type: "stopped", ...progress() });
    process.disconnect();
  }
}

process.on("message", (message: ParentMessage) => {
  onMessage(message).catch(async (error: unknown) => {
    process.exitCode = 1;
    await send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.disconnect();
  });
});
// The bench is gone (or done with us): nothing else will stop this process.
process.on("disconnect", () => process.exit());
// A terminal's Ctrl-C reaches the whole foreground process group; the bench decides when we stop.
process.on("SIGINT", () => undefined);
