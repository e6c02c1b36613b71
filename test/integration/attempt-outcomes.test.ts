import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishAttempts, releaseWorkerJobs, type FinishRequest } from "../../libs/attempts/index.js";
import { startCoreJobs, type CoreJobs } from "../support/core-jobs.js";

// libs/attempts in this process against real Postgres: every verdict finishAttempts can give
// (with its exact detail), what each outcome writes to the job row and its events (result,
// error, retry count, backoff, times), the early-delivery path of both the success statement and
// the locked path, and releaseWorkerJobs' hand-back of everything a worker holds.

const success = (jobId: string, attempt: number, workerId: string | null, deliveredAt?: Date): FinishRequest => ({
  jobId,
  attempt,
  workerId,
  outcome: { kind: "success", result: Buffer.from(`ok ${jobId}`) },
  ...(deliveredAt ? { deliveredAt } : {}),
});
const failure = (jobId: string, attempt: number, workerId: string | null, over: { retryable?: boolean; reason?: "FAILED" | "TIMEOUT" | "WORKER_LOST"; deliveredAt?: Date } = {}): FinishRequest => ({
  jobId,
  attempt,
  workerId,
  outcome: { kind: "failure", message: "boom", retryable: over.retryable ?? true, reason: over.reason ?? "FAILED" },
  ...(over.deliveredAt ? { deliveredAt: over.deliveredAt } : {}),
});

describe("attempt outcomes", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("a");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  /** A job claimed by a new worker; RUNNING unless `assigned`. */
  const held = async (q: string, assigned = false) => {
    const id = await core.submit(q);
    const w = await core.worker(q);
    const [job] = await core.claim(q, w);
    if (!assigned) await core.db.pool.query("UPDATE jobs SET status = 'RUNNING', started_at = now() WHERE id = $1", [id]);
    return { id, w, attempt: job!.attempt };
  };

  it("accepts a success with its queue and worker, stores the result and finishes the job", async () => {
    const q = await core.queue();
    const j = await held(q);
    expect(await finishAttempts(core.db.pool, [])).toEqual([]);
    expect(await finishAttempts(core.db.pool, [success(j.id, j.attempt, j.w)])).toEqual([{ code: "accepted", status: "DONE", queue: q, workerId: j.w }]);
    const row = await core.job(j.id);
    expect(row).toMatchObject({ status: "DONE", status_reason: "SUCCEEDED", result: Buffer.from(`ok ${j.id}`), error_message: null, lease_expires_at: null });
    expect(row.completed_at).toBeInstanceOf(Date);
    expect((await core.events(j.id)).at(-1)).toMatchObject({ reason: "SUCCEEDED", from: "RUNNING", to: "DONE", worker: j.w, attempt: j.attempt });
  });

  it("records DELIVERED at the delivery time before the outcome of a job still ASSIGNED, on both paths", async () => {
    const q = await core.queue({ maxRetries: 0 });
    const at = new Date(Date.now() - 3_000);
    const ok = await held(q, true);
    const bad = await held(q, true);
    const verdicts = await finishAttempts(core.db.pool, [success(ok.id, ok.attempt, ok.w, at), failure(bad.id, bad.attempt, bad.w, { deliveredAt: at })]);
    expect(verdicts.map((v) => v.code === "accepted" && v.status)).toEqual(["DONE", "DEAD_LETTERED"]);
    for (const j of [ok, bad]) {
      expect((await core.job(j.id)).started_at).toEqual(at);
      const delivered = await core.db.pool.query("SELECT created_at, queue FROM job_events WHERE job_id = $1 AND reason = 'DELIVERED'", [j.id]);
      expect(delivered.rows).toEqual([{ created_at: at, queue: q }]);
      const events = await core.events(j.id);
      expect(events.map((e) => e.reason)).toEqual(j === ok ? ["SUBMITTED", "CLAIMED", "DELIVERED", "SUCCEEDED"] : ["SUBMITTED", "CLAIMED", "DELIVERED", "FAILED", "RETRIES_EXHAUSTED"]);
    }
    // Without a delivery time, the write's own time.
    const late = await held(q, true);
    const before = Date.now();
    await finishAttempts(core.db.pool, [failure(late.id, late.attempt, late.w)]);
    expect((await core.job(late.id)).started_at!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
  });

  it("gives each refused result its exact reason, and not_found for an unknown job", async () => {
    const q = await core.queue();
    const j = await held(q);
    const stranger = crypto.randomUUID();
    const missing = crypto.randomUUID();
    const verdicts = await finishAttempts(core.db.pool, [
      failure(j.id, j.attempt + 1, j.w),
      success(j.id, j.attempt, stranger),
      failure(missing, 1, j.w),
    ]);
    expect(verdicts).toEqual([
      { code: "stale", detail: `attempt ${j.attempt + 1} is not current (the job is on attempt ${j.attempt})` },
      { code: "stale", detail: `job ${j.id} is held by another worker` },
      { code: "not_found" },
    ]);
    const pending = await core.submit(q);
    expect(await finishAttempts(core.db.pool, [failure(pending, 0, null)])).toEqual([{ code: "stale", detail: `job ${pending} is PENDING, not RUNNING` }]);
    // jq itself (no worker) cannot complete a delivery that never started
    const assigned = await held(await core.queue(), true);
    expect(await finishAttempts(core.db.pool, [failure(assigned.id, assigned.attempt, null)])).toEqual([{ code: "stale", detail: `job ${assigned.id} is held by another worker` }]);
    expect((await core.job(assigned.id)).status).toBe("ASSIGNED");
  });

  it("accepts a success jq records without a worker, under the row lock", async () => {
    const q = await core.queue();
    const j = await held(q);
    expect(await finishAttempts(core.db.pool, [success(j.id, j.attempt, null)])).toEqual([{ code: "accepted", status: "DONE", queue: q, workerId: j.w }]);
    const row = await core.job(j.id);
    expect(row).toMatchObject({ status: "DONE", status_reason: "SUCCEEDED", result: Buffer.from(`ok ${j.id}`) });
    expect(row.completed_at).toBeInstanceOf(Date);
  });

  it("records a batch of successes from the workers holding the jobs in one statement, no transaction", async () => {
    const q = await core.queue();
    const [a, b] = [await held(q), await held(q)];
    let queries = 0;
    let connects = 0;
    const pool = core.db.pool;
    const counted = new Proxy(pool, {
      get(target, prop) {
        if (prop === "query") return (...args: unknown[]) => (queries++, (target.query as (...a: unknown[]) => unknown)(...args));
        if (prop === "connect") return (...args: unknown[]) => (connects++, (target.connect as (...a: unknown[]) => unknown)(...args));
        return Reflect.get(target, prop, target) as unknown;
      },
    });
    const verdicts = await finishAttempts(counted, [success(a.id, a.attempt, a.w), success(b.id, b.attempt, b.w)]);
    expect(verdicts.map((v) => v.code)).toEqual(["accepted", "accepted"]);
    expect({ queries, connects }).toEqual({ queries: 1, connects: 0 });
    // Its events carry the job's queue and, for each job, its own worker.
    const events = await core.db.pool.query("SELECT job_id, queue, worker_id FROM job_events WHERE job_id = ANY($1::uuid[]) AND reason = 'SUCCEEDED' ORDER BY job_id", [[a.id, b.id]]);
    expect(events.rows.map((e) => [e.job_id, e.queue, e.worker_id])).toEqual(
      [[a.id, q, a.w], [b.id, q, b.w]].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
  });

  it("schedules a retry with the backoff, counts it, and says so in the event", async () => {
    const q = await core.queue({ maxRetries: 3, backoffBaseMs: 1_000, backoffMaxMs: 60_000 });
    const j = await held(q);
    const asked: [number, number, number][] = [];
    const verdicts = await finishAttempts(core.db.pool, [failure(j.id, j.attempt, j.w)], {
      delayMs: (n, p) => {
        asked.push([n, p.baseMs, p.maxMs]);
        return 5_000;
      },
    });
    expect(verdicts).toEqual([{ code: "accepted", status: "PENDING", queue: q, workerId: j.w }]);
    expect(asked).toEqual([[0, 1_000, 60_000]]);
    const row = await core.job(j.id);
    // a retry waits for any worker: it no longer names the one whose attempt failed
    expect(row).toMatchObject({ status: "PENDING", status_reason: "RETRY_SCHEDULED", retry_count: 1, error_message: "boom", completed_at: null, result: null, worker_id: null });
    expect(row.not_before!.getTime() - row.updated_at.getTime()).toBe(5_000);
    expect((await core.events(j.id)).slice(-2)).toMatchObject([
      { reason: "FAILED", from: "RUNNING", to: "FAILED", message: "boom", worker: j.w },
      { reason: "RETRY_SCHEDULED", from: "FAILED", to: "PENDING", message: "retry 1 of 3 in 5000 ms" },
    ]);
    // the injected random is the jitter: 0 → exactly base · 2^retry_count
    await core.db.pool.query("UPDATE jobs SET not_before = NULL WHERE id = $1", [j.id]);
    const [again] = await core.claim(q, j.w);
    await core.db.pool.query("UPDATE jobs SET status = 'RUNNING' WHERE id = $1", [j.id]);
    await finishAttempts(core.db.pool, [failure(j.id, again!.attempt, j.w, { reason: "TIMEOUT" })], { random: () => 0 });
    const second = await core.job(j.id);
    expect(second.not_before!.getTime() - second.updated_at.getTime()).toBe(2_000);
    expect((await core.events(j.id)).at(-2)).toMatchObject({ reason: "TIMEOUT", to: "FAILED" });
  });

  it("dead-letters an exhausted or non-retryable failure, keeping the retry count", async () => {
    const q = await core.queue({ maxRetries: 0 });
    const exhausted = await held(q);
    const final = await held(q);
    expect(await finishAttempts(core.db.pool, [failure(exhausted.id, exhausted.attempt, exhausted.w), failure(final.id, final.attempt, final.w, { retryable: false })])).toEqual([
      { code: "accepted", status: "DEAD_LETTERED", queue: q, workerId: exhausted.w },
      { code: "accepted", status: "DEAD_LETTERED", queue: q, workerId: final.w },
    ]);
    for (const [j, reason] of [[exhausted, "RETRIES_EXHAUSTED"], [final, "NOT_RETRYABLE"]] as const) {
      const row = await core.job(j.id);
      // a finished job keeps the worker that ran its last attempt
      expect(row).toMatchObject({ status: "DEAD_LETTERED", status_reason: reason, retry_count: 0, error_message: "boom", not_before: null, worker_id: j.w });
      expect(row.completed_at).toBeInstanceOf(Date);
      expect((await core.events(j.id)).at(-1)).toMatchObject({ reason, from: "FAILED", to: "DEAD_LETTERED", message: "boom" });
    }
  });

  it("releases everything a worker holds: assignments back to PENDING, running jobs failed as WORKER_LOST", async () => {
    const q = await core.queue({ maxRetries: 1 });
    const w = await core.worker(q);
    const [a, r] = [await core.submit(q), await core.submit(q)];
    await core.claim(q, w, 2);
    await core.db.pool.query("UPDATE jobs SET status = 'RUNNING' WHERE id = $1", [r]);
    expect(await releaseWorkerJobs(core.db.pool, w, "gone")).toBe(2);
    expect(await core.job(a)).toMatchObject({ status: "PENDING", status_reason: "WORKER_LOST", retry_count: 0, worker_id: null });
    expect(await core.job(r)).toMatchObject({ status: "PENDING", status_reason: "RETRY_SCHEDULED", retry_count: 1, error_message: "gone", worker_id: null });
    expect((await core.events(r)).slice(-2).map((e) => [e.reason, e.to, e.message])).toEqual([
      ["WORKER_LOST", "FAILED", "gone"],
      ["RETRY_SCHEDULED", "PENDING", expect.stringMatching(/^retry 1 of 1 in \d+ ms$/)],
    ]);
    expect(await releaseWorkerJobs(core.db.pool, w, "gone")).toBe(0);
  });
});
