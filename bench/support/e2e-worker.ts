// One worker process of bench/e2e.ts, forked by e2e-workers.ts with the bench's loader flags (so
// tsx runs it). It runs either the jq worker SDK or pg-boss's `work()` with a no-op handler, counts
// the handlers it starts and, for jobs that carry their submit time (`t`: jq metadata, pg-boss
// data), keeps when each one started. It is told what to run over IPC and exits when told to stop
// or when the bench goes away (the IPC channel closes).
import { monitorEventLoopDelay } from "node:perf_hooks";
import { PgBoss } from "pg-boss";
import { Worker } from "../../libs/worker-sdk/index.js";
import { EVENT_LOOP_RESOLUTION_MS } from "./api-metrics.js";
import { epochMs, type ParentMessage, type PgBossWorkSettings, type StartSample, type WorkerCounts, type WorkerMessage } from "./e2e-protocol.js";

/** A started worker of either system. */
interface RunningWorker {
  close(): Promise<void>;
  sdkStats(): Record<string, number> | undefined;
}

let started = 0;
let samples: StartSample[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
/** Delay beyond the timer interval, ms (an idle process reads about the interval itself). */
const beyondResolution = (ns: number): number => Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS);
loopDelay.enable();

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

async function startJq(address: string, queue: string, concurrency: number): Promise<RunningWorker> {
  const worker = new Worker({
    address,
    queues: [queue],
    concurrency,
    // A long close timeout is never reached: handlers return at once.
    handler: (job) => recordStart(job.id, job.metadata.t),
  });
  await worker.start();
  return { close: () => worker.close(), sdkStats: () => ({ ...worker.stats }) };
}

async function startPgBoss(connectionString: string, queue: string, settings: PgBossWorkSettings): Promise<RunningWorker> {
  // The producer (in the bench) owns the schema, maintenance and cron; a worker only works.
  const boss = new PgBoss({
    connectionString,
    application_name: "pgboss-worker",
    migrate: false,
    supervise: false,
    schedule: false,
    useListenNotify: settings.notify,
  });
  boss.on("error", (error: unknown) => process.stderr.write(`e2e-worker (pg-boss): ${String(error)}\n`));
  await boss.start();
  await boss.work<{ t?: number }>(
    queue,
    {
      batchSize: settings.batchSize,
      localConcurrency: settings.localConcurrency,
      pollingIntervalSeconds: settings.pollingIntervalSeconds,
      burstWhenBatchFull: true,
    },
    async (jobs) => {
      for (const job of jobs) recordStart(job.id, job.data.t);
    },
  );
  return { close: () => boss.stop({ graceful: true, close: true, timeout: 10_000 }), sdkStats: () => undefined };
}

let running: RunningWorker | undefined;
let lastProgress = -1;
const progressTimer = setInterval(() => {
  if (started === lastProgress) return;
  lastProgress = started;
  void send({ type: "progress", started });
}, 50);

async function onMessage(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case "start":
      running =
        message.system === "jq"
          ? await startJq(message.address, message.queue, message.concurrency)
          : await startPgBoss(message.connectionString, message.queue, message.settings);
      await send({ type: "ready" });
      return;
    case "collect": {
      const collected = samples;
      samples = [];
      await send({ type: "collected", samples: collected });
      return;
    }
    case "stop": {
      clearInterval(progressTimer);
      await running?.close();
      const sdk = running?.sdkStats();
      const counts: WorkerCounts = {
        started,
        ...(sdk === undefined ? {} : { sdk }),
        eventLoopP99Ms: beyondResolution(loopDelay.percentile(99)),
        eventLoopMaxMs: beyondResolution(loopDelay.max),
        eventLoopMeanMs: beyondResolution(loopDelay.mean),
      };
      await send({ type: "stopped", counts });
      process.disconnect();
      return;
    }
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
