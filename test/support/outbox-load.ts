import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type pg from "pg";
import { finishAttempts, type FinishRequest } from "../../libs/attempts/index.js";
import { claimJobs, markDelivered, type ClaimedJob } from "../../libs/dispatch/index.js";
import { cancelJob, retryJob, submitJobs, type NewJob } from "../../libs/jobs/index.js";
import { createLogger, type Logger } from "../../libs/logging/logger.js";
import { inject } from "vitest";
import { OutboxRelay, type OutboxRelayHooks, type OutboxRelayOptions, type RelayStep } from "../../libs/outbox/index.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { createQueue, QUEUE_DEFAULTS } from "../../libs/queues/index.js";
import { eventually } from "./eventually.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";

/** The suite's one wait helper, re-exported for the outbox tests. */
export { eventually };

// Job events for the outbox relay's tests, written through jq's own write paths (submit, claim,
// deliver, finish, cancel, retry), so the outbox holds exactly what production writes.

/** A fresh migrated database with one queue whose failed jobs retry at once, (almost) forever. */
export async function createOutboxDatabase(queue = "relay"): Promise<TestDatabase> {
  const db = await createTestDatabase({ poolMax: 12 });
  await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
  await createQueue(db.pool, queue, { ...QUEUE_DEFAULTS, maxRetries: 10_000, backoffBaseMs: 1, backoffMaxMs: 1 }, false);
  return db;
}

/** A job to submit straight through `submitJobs`, with every option at its default. */
export const newJob = (queue: string, i: number | string): NewJob => ({
  queue,
  payload: Buffer.from(`job ${i}`),
  metadata: {},
  priority: 0,
  maxRetries: null,
  timeoutSeconds: null,
  delayMs: null,
  runAt: null,
  idempotencyKey: null,
});

/** A backoff in the past, so a retried job is due again at once. */
const DUE_AT_ONCE = { delayMs: () => -60_000 };

/**
 * Claims up to `limit` jobs and, with `mark`, marks them RUNNING (a row of CLAIMED and DELIVERED);
 * without it the result writes those two with its own (a row of CLAIMED, DELIVERED, FAILED).
 */
async function claimAndDeliver(pool: pg.Pool, queue: string, workerId: string, limit: number, mark = true): Promise<ClaimedJob[]> {
  const claimed = await claimJobs(pool, { workerId, queues: [queue], limit, leaseMs: 60_000 }, new Set());
  if (mark) await markDelivered(pool, claimed.map((j) => ({ jobId: j.id, attempt: j.attempt, workerId, deliveredAt: new Date() })));
  return claimed;
}

function outcome(job: ClaimedJob, workerId: string, succeed: boolean): FinishRequest {
  return {
    jobId: job.id,
    attempt: job.attempt,
    workerId,
    outcome: succeed ? { kind: "success", result: Buffer.from("ok") } : { kind: "failure", message: `attempt ${job.attempt} failed`, retryable: true, reason: "FAILED" },
  };
}

/**
 * Takes `jobs` new jobs through 50 events each: submitted; 11 × (assigned, started, failed,
 * retry_scheduled); cancelled; retried by hand (retry_scheduled); assigned, started, succeeded.
 * The rounds alternate between a RUNNING mark before the result and none, so the log holds rows
 * of one, two and three events.
 * Returns the job ids once every event written is below the cluster's transaction horizon, so a
 * relay's next read sees them all: a transaction of a test file running in parallel holds the
 * horizon back for a moment, and a relay started meanwhile would read only part of them. The
 * caller's queue must hold no other PENDING jobs.
 */
export async function writeFiftyEventsPerJob(pool: pg.Pool, queue: string, jobs: number): Promise<string[]> {
  const submitted = await submitJobs(pool, Array.from({ length: jobs }, (_, i) => newJob(queue, i)));
  const ids = submitted.map((s) => s.job.id);
  const workerId = randomUUID();
  for (let round = 0; round < 11; round++) {
    const claimed = await claimAndDeliver(pool, queue, workerId, jobs, round % 2 === 0);
    if (claimed.length !== jobs) throw new Error(`round ${round}: claimed ${claimed.length} of ${jobs} jobs`);
    await finishAttempts(pool, claimed.map((j) => outcome(j, workerId, false)), DUE_AT_ONCE);
  }
  for (const id of ids) await cancelJob(pool, id, "cancelled by the outbox test");
  for (const id of ids) await retryJob(pool, id);
  const claimed = await claimAndDeliver(pool, queue, workerId, jobs);
  await finishAttempts(pool, claimed.map((j) => outcome(j, workerId, true)));
  await eventually("the written events below the transaction horizon", async () => {
    const { rows } = await pool.query<{ below: boolean }>(
      "SELECT coalesce(max(xid) < pg_snapshot_xmin(pg_current_snapshot()), true) AS below FROM job_event_rows",
    );
    return rows[0]!.below;
  });
  return ids;
}

export interface LoadStats {
  /** Write rounds that committed, and that failed. */
  rounds: number;
  failures: number;
  /** Duration of each round, ms. */
  roundMs: number[];
}

export interface RunningLoad {
  readonly stats: LoadStats;
  /** Stops submitting and resolves once every writer finished its round. */
  stop(): Promise<LoadStats>;
}

/**
 * `writers` concurrent loops, each submitting a few jobs per round and moving jobs along (claim,
 * deliver, then success or a retried failure; now and then a cancel): many transactions commit at
 * once, so outbox ids commit out of order, as in production.
 */
export function startLoad(pool: pg.Pool, queue: string, options: { writers?: number; pauseMs?: number } = {}): RunningLoad {
  const stats: LoadStats = { rounds: 0, failures: 0, roundMs: [] };
  let stopped = false;
  const writer = async (w: number): Promise<void> => {
    const workerId = randomUUID();
    for (let round = 0; !stopped; round++) {
      const started = performance.now();
      try {
        await submitJobs(pool, Array.from({ length: 5 }, (_, i) => newJob(queue, i)));
        const claimed = await claimAndDeliver(pool, queue, workerId, 8);
        await finishAttempts(pool, claimed.map((j, i) => outcome(j, workerId, (i + round) % 3 === 0)), DUE_AT_ONCE);
        if (round % 7 === w % 7) {
          const [victim] = await claimAndDeliver(pool, queue, workerId, 1);
          if (victim) await cancelJob(pool, victim.id, "cancelled under load");
        }
        stats.rounds += 1;
        stats.roundMs.push(performance.now() - started);
      } catch {
        stats.failures += 1;
      }
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const running = Array.from({ length: options.writers ?? 4 }, (_, w) => writer(w));
  return {
    stats,
    async stop() {
      stopped = true;
      await Promise.all(running);
      return stats;
    },
  };
}

/**
 * `pool` watched for the relay: `readsAt` holds the performance.now() at which each batch read of
 * the event log (the statement bounded by the transaction horizon) was sent.
 */
export function watchRelayReads(pool: pg.Pool): { pool: pg.Pool; readonly readsAt: number[] } {
  const readsAt: number[] = [];
  const query = (...args: Parameters<pg.Pool["query"]>) => {
    if (typeof args[0] === "string" && args[0].includes("pg_snapshot_xmin(pg_current_snapshot())")) readsAt.push(performance.now());
    return (pool.query as (...a: unknown[]) => Promise<pg.QueryResult>)(...args);
  };
  const watched = new Proxy(pool, { get: (target, prop) => (prop === "query" ? query : (Reflect.get(target, prop, target) as unknown)) });
  return { pool: watched, readsAt };
}

/** A logger for the code under test that keeps its lines (parsed) instead of printing them. */
export function capturingLogger(level = "info"): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ app: "scheduler", nodeId: "outbox-test", level, destination }), lines };
}

/** Counts what a relay reports through its hooks. */
export function relayCounters(): {
  relayed: number;
  /** performance.now() of every acknowledged send. */
  acks: number[];
  failures: { step: RelayStep; message: string; at: number }[];
  hooks: Required<OutboxRelayHooks>;
} {
  const counters = {
    relayed: 0,
    acks: [] as number[],
    failures: [] as { step: RelayStep; message: string; at: number }[],
    hooks: {
      onRelayed: (n: number) => {
        counters.relayed += n;
        counters.acks.push(performance.now());
      },
      onFailure: (step: RelayStep, error: Error) => {
        counters.failures.push({ step, message: error.message, at: performance.now() });
      },
    } satisfies OutboxRelayHooks,
  };
  return counters;
}

/**
 * A relay of `pool`'s event log to `topic` on the test bed's Kafka, with a quiet logger unless
 * `options` say otherwise; pushed onto `relays` for the file's afterAll to stop.
 */
export function testBedRelay(relays: OutboxRelay[], pool: pg.Pool, topic: string, partitions: number, options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  const relay = new OutboxRelay({
    pool,
    kafka: { brokers: inject("testBed").kafkaBrokers, clientId: "jq-outbox-test", topic, topicPartitions: partitions },
    log: capturingLogger().log,
    ...options,
  });
  relays.push(relay);
  return relay;
}
