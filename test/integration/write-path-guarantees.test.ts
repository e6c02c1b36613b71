import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishAttempts, type FinishRequest } from "../../libs/attempts/index.js";
import { claimJobs } from "../../libs/dispatch/index.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { JOBS_AVAILABLE_CHANNEL } from "../../libs/notifications/index.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { createQueue, QUEUE_DEFAULTS } from "../../libs/queues/index.js";
import { wakeDueQueues } from "../../libs/sweeps/index.js";
import { registerWorker } from "../../libs/workers/index.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";
import { settingsSchema } from "../../libs/config/settings.js";

/** An api replica's dispatch sweep by default (JQ_DISPATCH_SWEEP_MS): what a wake-up must beat. */
const DISPATCH_SWEEP_MS = settingsSchema.shape.JQ_DISPATCH_SWEEP_MS.parse(undefined);

// Core guarantees of the write path, each asserted where it is decided (the database), so the test
// fails when the one line that keeps it is broken: exactly one outcome per attempt, backoff that
// grows by the formula, and due jobs that wake dispatchers by NOTIFY.

describe("write path guarantees", () => {
  let db: TestDatabase;
  let n = 0;
  const queue = async (over: Partial<typeof QUEUE_DEFAULTS> = {}) => {
    const name = `g${++n}`;
    await createQueue(db.pool, name, { ...QUEUE_DEFAULTS, ...over }, false);
    return name;
  };
  const submit = async (q: string) =>
    (await submitJobs(db.pool, [{ queue: q, payload: Buffer.from("x"), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null }]))[0]!.job.id;
  const worker = async (q: string) =>
    (await registerWorker(db.pool, { workerId: crypto.randomUUID(), hostname: "h", sdkVersion: "t", queues: [q], concurrency: 10, labels: {} })).workerId;
  const claimOne = async (q: string, w: string) => {
    const [job] = await claimJobs(db.pool, { workerId: w, queues: [q], limit: 1, leaseMs: 60_000 }, new Set());
    return job!;
  };
  const reasons = async (id: string) => (await db.pool.query("SELECT reason FROM job_events WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
  const success = (jobId: string, attempt: number, workerId: string): FinishRequest => ({ jobId, attempt, workerId, outcome: { kind: "success", result: Buffer.from("ok") } });
  const failure = (jobId: string, attempt: number, workerId: string, message = "boom"): FinishRequest => ({
    jobId,
    attempt,
    workerId,
    outcome: { kind: "failure", message, retryable: true, reason: "FAILED" },
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
  });
  afterAll(async () => {
    await db.drop();
  });

  it("records one outcome when two results of the same attempt share a batch", async () => {
    const q = await queue();
    const w = await worker(q);
    for (const pair of [
      [success, success],
      [failure, failure],
      [success, failure],
      [failure, success],
    ] as const) {
      const id = await submit(q);
      const job = await claimOne(q, w);
      expect(job.id).toBe(id);
      const verdicts = await finishAttempts(db.pool, [pair[0](id, job.attempt, w), pair[1](id, job.attempt, w)]);
      expect(verdicts.map((v) => v.code)).toEqual(["accepted", "stale"]);
      const outcomes = (await reasons(id)).filter((r) => r === "SUCCEEDED" || r === "FAILED");
      expect(outcomes).toEqual([pair[0] === success ? "SUCCEEDED" : "FAILED"]);
      if (pair[0] === failure) await db.pool.query("UPDATE jobs SET status = 'DEAD_LETTERED' WHERE id = $1", [id]); // keep the queue empty
    }
  });

  it("grows a job's retry delay by the formula, read from the database", async () => {
    const base = 100;
    const q = await queue({ maxRetries: 4, backoffBaseMs: base, backoffMaxMs: 500 });
    const w = await worker(q);
    const id = await submit(q);
    const delays: number[] = [];
    for (let retry = 0; retry < 4; retry++) {
      await db.pool.query("UPDATE jobs SET not_before = NULL WHERE id = $1", [id]); // due now: no waiting in the test
      const job = await claimOne(q, w);
      expect(job.id).toBe(id);
      expect(await finishAttempts(db.pool, [failure(id, job.attempt, w)])).toMatchObject([{ code: "accepted", status: "PENDING" }]);
      // not_before and updated_at come from the same now(): their gap is exactly the delay.
      const { rows } = await db.pool.query<{ ms: number }>(
        "SELECT (extract(epoch FROM not_before - updated_at) * 1000)::float8 AS ms FROM jobs WHERE id = $1",
        [id],
      );
      delays.push(Math.round(rows[0]!.ms));
    }
    const floors = [0, 1, 2, 3].map((retry) => Math.min(base * 2 ** retry, 500));
    delays.forEach((d, retry) => {
      expect(d, `retry ${retry}`).toBeGreaterThanOrEqual(floors[retry]!);
      expect(d, `retry ${retry}`).toBeLessThan(floors[retry]! + base); // jitter is 0..base
    });
    expect(floors).toEqual([100, 200, 400, 500]);
  });

  it("wakes dispatchers with a NOTIFY naming each queue whose delayed jobs became due, and only those", async () => {
    const [due, later, other] = [await queue(), await queue(), await queue()];
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: { channel: string; payload: string | undefined; at: number }[] = [];
    listener.on("notification", (m) => heard.push({ channel: m.channel, payload: m.payload, at: performance.now() }));
    await listener.query(`LISTEN "${JOBS_AVAILABLE_CHANNEL}"`);
    try {
      const [a, b] = [await submit(due), await submit(later)];
      await submit(other); // not delayed: already claimable, nothing to wake
      await db.pool.query("UPDATE jobs SET not_before = now() - interval '100 milliseconds' WHERE id = $1", [a]);
      await db.pool.query("UPDATE jobs SET not_before = now() + interval '1 hour' WHERE id = $1", [b]);
      const sweptAt = performance.now();
      // The sweep is database-wide: a retry of an earlier test may be due too. Each queue it counts
      // gets one NOTIFY; of this test's queues, only `due`.
      const woken = await wakeDueQueues(db.pool, 1000);
      await eventually("one wake-up per queue the sweep counted", () => heard.length >= woken, 5_000, 10);
      expect(heard).toHaveLength(woken);
      const mine = heard.filter((h) => [due, later, other].includes(h.payload!));
      expect(mine.map((h) => [h.channel, h.payload])).toEqual([[JOBS_AVAILABLE_CHANNEL, due]]);
      // The wake-up arrives sooner than an api replica's own dispatch sweep would have found the job.
      expect(mine[0]!.at - sweptAt).toBeLessThan(DISPATCH_SWEEP_MS);
    } finally {
      await listener.end();
    }
  });
});
