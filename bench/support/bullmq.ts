import { randomBytes } from "node:crypto";
import { Queue } from "bullmq";
import type { LocalRedis } from "../../test/bed/redis.js";
import type { SystemOptions } from "./options.js";
import { verification, type SystemUnderTest } from "./system.js";
import type { Teardown } from "./teardown.js";
import { startWorkerFleet } from "./workers.js";

// BullMQ on the test bed's redis-server, which keeps nothing on disk (no RDB, no AOF): NOT durable,
// the figure a queue without durable commits reaches on this machine. A Queue in the bench process
// produces; W worker processes run a BullMQ Worker with a no-op handler. A job has completed when
// the worker's "completed" event says Redis moved it to the completed set.

const QUEUE = "bench-e2e";

export async function startBullMq(redis: LocalRedis, options: SystemOptions, teardown: Teardown): Promise<SystemUnderTest> {
  const url = new URL(redis.endpoint);
  const queue = new Queue(QUEUE, { connection: { host: url.hostname, port: Number(url.port) } });
  queue.on("error", (error) => process.stderr.write(`bench: bullmq queue: ${String(error)}\n`));
  await queue.waitUntilReady();
  let queueClosing: Promise<void> | undefined;
  const closeQueue = (): Promise<void> => (queueClosing ??= queue.close());
  teardown.add("bullmq queue", closeQueue);
  const workers = await startWorkerFleet(options.workers, () => ({ type: "start", system: "bullmq", redisUrl: redis.endpoint, queue: QUEUE, concurrency: options.concurrency }));
  teardown.add("bullmq workers", workers.stop, workers.killNow);

  const data = { p: randomBytes(options.payloadBytes).toString("hex").slice(0, options.payloadBytes) };
  const batch = Array.from({ length: options.batchSize }, () => ({ name: "job", data }));
  return {
    name: "bullmq",
    databaseName: undefined,
    processes: [{ label: "redis", pid: redis.pid }, ...workers.pids.map((pid, i) => ({ label: `worker#${i + 1}`, pid }))],
    workers,
    batchSize: options.batchSize,
    benchCommits: () => 0,
    async submitOne(submittedAtMs) {
      const job = await queue.add("job", submittedAtMs === undefined ? data : { ...data, t: submittedAtMs });
      return job.id ?? "";
    },
    async submitBatch() {
      await queue.addBulk(batch);
    },
    allCompleted: async (submitted) => workers.progress().completed >= submitted,
    lastCompletionMs: async () => workers.progress().lastCompletedAtMs,
    async finish(submitted) {
      const progress = await workers.stop();
      const counts = await queue.getJobCounts();
      await closeQueue();
      await redis.stop();
      const stored = Object.values(counts).reduce((sum, n) => sum + n, 0);
      return verification({ submitted, stored, completed: counts.completed ?? 0, handlerStarts: progress.started });
    },
  };
}
