import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishAttempts } from "../../libs/attempts/index.js";
import { FailedPrecondition, NotFound } from "../../libs/errors/index.js";
import {
  cancelJob,
  JobStore,
  listDeadLetters,
  actOnDeadLetters,
  retryJob,
  submitJobs,
  type NewJob,
} from "../../libs/jobs/index.js";
import { WORKER_CONTROL_CHANNEL } from "../../libs/notifications/index.js";
import { startCoreJobs, type CoreJobs } from "../support/core-jobs.js";

// CancelJob, RetryJob, the dead-letter operations, idempotent submits and the group-committed
// JobStore (libs/jobs), called in this process against real Postgres: what each moves, what it
// resets, what it refuses with which error, and whom it tells.

describe("job commands", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("c");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  it("cancels a PENDING job without telling any worker, with the default message", async () => {
    const q = await core.queue();
    const id = await core.submit(q);
    const control = await core.listen(WORKER_CONTROL_CHANNEL);
    try {
      const job = await cancelJob(core.db.pool, id, null);
      expect(job).toMatchObject({ id, status: "DEAD_LETTERED", statusReason: "CANCELLED", fromStatus: "PENDING", errorMessage: "cancelled" });
      expect(job.completedAt).toBeInstanceOf(Date);
      expect((await core.events(id)).at(-1)).toMatchObject({ reason: "CANCELLED", from: "PENDING", to: "DEAD_LETTERED", message: "cancelled" });
      await new Promise((r) => setTimeout(r, 100));
      expect(control.heard).toEqual([]);
    } finally {
      await control.end();
    }
  });

  it("cancels an ASSIGNED and a RUNNING job and tells their worker to abort", async () => {
    const q = await core.queue();
    const [a, b] = [await core.submit(q), await core.submit(q)];
    const w = await core.worker(q);
    const claimed = await core.claim(q, w, 2);
    await core.db.pool.query("UPDATE jobs SET status = 'RUNNING' WHERE id = $1", [b]);
    const control = await core.listen(WORKER_CONTROL_CHANNEL);
    try {
      expect(await cancelJob(core.db.pool, a, "stop a")).toMatchObject({ fromStatus: "ASSIGNED", workerId: w, errorMessage: "stop a", leaseExpiresAt: null });
      expect(await cancelJob(core.db.pool, b, null)).toMatchObject({ fromStatus: "RUNNING", workerId: w });
      const heard = (await control.waitFor(2)).map((p) => JSON.parse(p));
      const attemptOf = (id: string) => claimed.find((c) => c.id === id)!.attempt;
      expect(heard).toEqual([
        { kind: "cancel", worker: w, job: a, attempt: attemptOf(a), reason: "CANCELLED", message: "stop a" },
        { kind: "cancel", worker: w, job: b, attempt: attemptOf(b), reason: "CANCELLED", message: "cancelled" },
      ]);
    } finally {
      await control.end();
    }
  });

  it("tells no worker when it cancels a PENDING job that a worker failed before (the retry names no worker)", async () => {
    const q = await core.queue({ maxRetries: 1 });
    const id = await core.submit(q);
    const w = await core.worker(q);
    const [job] = await core.claim(q, w);
    await finishAttempts(core.db.pool, [{ jobId: id, attempt: job!.attempt, workerId: w, outcome: { kind: "failure", message: "x", retryable: true, reason: "FAILED" } }]);
    expect(await core.job(id)).toMatchObject({ status: "PENDING", worker_id: null });
    const control = await core.listen(WORKER_CONTROL_CHANNEL);
    try {
      expect(await cancelJob(core.db.pool, id, null)).toMatchObject({ fromStatus: "PENDING", workerId: null });
      await new Promise((r) => setTimeout(r, 100));
      expect(control.heard).toEqual([]);
    } finally {
      await control.end();
    }
  });

  it("refuses to cancel a finished job, naming its state and the states that can be, and a missing one", async () => {
    const q = await core.queue({ maxRetries: 0 });
    const id = await core.deadLetter(q);
    const refusal = await cancelJob(core.db.pool, id, null).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(FailedPrecondition);
    expect((refusal as Error).message).toBe(`job ${id} is DEAD_LETTERED; only PENDING, ASSIGNED, RUNNING jobs can be cancelled`);
    const missing = crypto.randomUUID();
    const notFound = await cancelJob(core.db.pool, missing, null).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(NotFound);
    expect(notFound).toMatchObject({ entity: "job", id: missing });
  });

  it("retries a dead letter from scratch, and refuses a PENDING job", async () => {
    const q = await core.queue({ maxRetries: 0 });
    const id = await core.deadLetter(q);
    const job = await retryJob(core.db.pool, id);
    expect(job).toMatchObject({ status: "PENDING", statusReason: "RETRIED_MANUALLY", fromStatus: "DEAD_LETTERED", retryCount: 0, attempt: 1 });
    expect(job).toMatchObject({ notBefore: null, workerId: null, leaseExpiresAt: null, result: null, errorMessage: null, completedAt: null });
    const refusal = await retryJob(core.db.pool, id).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(FailedPrecondition);
    expect((refusal as Error).message).toBe(`job ${id} is PENDING; only FAILED, DEAD_LETTERED jobs can be retried`);
    await expect(retryJob(core.db.pool, crypto.randomUUID())).rejects.toBeInstanceOf(NotFound);
  });

  it("lists, requeues and purges dead letters by queue, reason and id, oldest first", async () => {
    const [q, other] = [await core.queue({ maxRetries: 0 }), await core.queue({ maxRetries: 0 })];
    const failed = [await core.deadLetter(q), await core.deadLetter(q), await core.deadLetter(q)];
    const cancelled = await core.submit(q);
    await cancelJob(core.db.pool, cancelled, null);
    const elsewhere = await core.deadLetter(other);
    const all = { queue: q, reasons: [], jobIds: [] };

    const page1 = await listDeadLetters(core.db.pool, all, null, 2);
    expect(page1.jobs.map((j) => j.id)).toEqual(failed.slice(0, 2));
    expect(page1.more).toBe(true);
    expect(page1.jobs[0]!.payload).toBeNull();
    const page2 = await listDeadLetters(core.db.pool, all, failed[1]!, 2, true);
    expect(page2.jobs.map((j) => j.id)).toEqual([failed[2], cancelled]);
    expect(page2.more).toBe(false);
    expect(page2.jobs[0]!.payload).toEqual(Buffer.from("x"));
    const byReason = await listDeadLetters(core.db.pool, { queue: null, reasons: ["CANCELLED"], jobIds: [] }, null, 10);
    expect(byReason.jobs.map((j) => j.id)).toContain(cancelled);
    expect(byReason.jobs.every((j) => j.statusReason === "CANCELLED")).toBe(true);
    const byId = await listDeadLetters(core.db.pool, { queue: null, reasons: [], jobIds: [failed[1]!, elsewhere] }, null, 10);
    expect(byId.jobs.map((j) => j.id)).toEqual([failed[1], elsewhere]);

    expect(await actOnDeadLetters(core.db.pool, { queue: q, reasons: ["NOT_RETRYABLE"], jobIds: [] }, { kind: "requeue", limit: 2 })).toBe(2);
    expect((await core.job(failed[0]!)).status).toBe("PENDING");
    expect((await core.job(failed[1]!)).status).toBe("PENDING");
    expect((await core.job(failed[2]!)).status).toBe("DEAD_LETTERED");
    expect(await actOnDeadLetters(core.db.pool, { queue: q, reasons: ["NOT_RETRYABLE"], jobIds: [] }, { kind: "requeue", limit: 0 })).toBe(1);
    expect(await actOnDeadLetters(core.db.pool, { queue: q, reasons: ["NOT_RETRYABLE"], jobIds: [] }, { kind: "requeue", limit: 0 })).toBe(0);

    // Purge keeps the events the relay has not sent yet (no relay ran here: all of them).
    expect(await actOnDeadLetters(core.db.pool, { queue: q, reasons: [], jobIds: [] }, { kind: "purge" })).toBe(1);
    expect(await core.job(cancelled)).toBeUndefined();
    expect((await core.events(cancelled)).map((e) => e.reason)).toEqual(["SUBMITTED", "CANCELLED"]);
    expect((await core.job(elsewhere)).status).toBe("DEAD_LETTERED");
  });

  it("requeues and purges more dead letters than one batch", async () => {
    const q = await core.queue();
    const jobs: NewJob[] = Array.from({ length: 520 }, () => ({ queue: q, payload: Buffer.from("x"), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null }));
    const ids = (await submitJobs(core.db.pool, jobs)).map((s) => s.job.id);
    await core.db.pool.query("UPDATE jobs SET status = 'DEAD_LETTERED', status_reason = 'CANCELLED' WHERE id = ANY($1::uuid[])", [ids]);
    expect(await actOnDeadLetters(core.db.pool, { queue: q, reasons: [], jobIds: [] }, { kind: "requeue", limit: 510 })).toBe(510);
    expect(await actOnDeadLetters(core.db.pool, { queue: q, reasons: [], jobIds: [] }, { kind: "requeue", limit: 0 })).toBe(10);
    await core.db.pool.query("UPDATE jobs SET status = 'DEAD_LETTERED' WHERE id = ANY($1::uuid[])", [ids]);
    expect(await actOnDeadLetters(core.db.pool, { queue: q, reasons: [], jobIds: [] }, { kind: "purge" })).toBe(520);
  });

  it("refuses to requeue or purge the dead letters of a queue that does not exist, naming it", async () => {
    for (const action of [{ kind: "requeue", limit: 0 }, { kind: "purge" }] as const) {
      const refused = actOnDeadLetters(core.db.pool, { queue: "no-such-queue", reasons: [], jobIds: [] }, action);
      await expect(refused).rejects.toThrow(NotFound);
      await expect(refused).rejects.toMatchObject({ entity: "queue", id: "no-such-queue" });
    }
  });

  it("submits idempotently: a repeated key in one batch and across batches returns the first job", async () => {
    const q = await core.queue();
    const job = (key: string | null, delayMs: number | null = null): NewJob => ({ queue: q, payload: Buffer.from(key ?? "-"), metadata: { k: String(key) }, priority: 1, maxRetries: 2, timeoutSeconds: 5, delayMs, runAt: null, idempotencyKey: key });
    const first = await submitJobs(core.db.pool, [job("a"), job(null), job("a"), job("b", 60_000)]);
    expect(first.map((s) => s.deduplicated)).toEqual([false, false, true, false]);
    expect(first[2]!.job.id).toBe(first[0]!.job.id);
    expect(first[0]!.job).toMatchObject({ priority: 1, maxRetries: 2, timeoutSeconds: 5, metadata: { k: "a" }, idempotencyKey: "a", notBefore: null });
    expect(first[3]!.job.notBefore!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    const again = await submitJobs(core.db.pool, [job("b"), job("c")]);
    expect(again.map((s) => [s.job.id === first[3]!.job.id, s.deduplicated])).toEqual([
      [true, true],
      [false, false],
    ]);
    const runAt = new Date(Date.now() + 3_600_000);
    const [later] = await submitJobs(core.db.pool, [{ ...job(null), runAt }]);
    expect(later!.job.notBefore).toEqual(runAt);
    expect(await submitJobs(core.db.pool, [])).toEqual([]);
  });

  it("names the missing queue of a submit", async () => {
    const q = await core.queue();
    const job = (queue: string): NewJob => ({ queue, payload: Buffer.from("x"), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null });
    await expect(submitJobs(core.db.pool, [job(q), job("no-such-queue")])).rejects.toMatchObject({ entity: "queue", id: "no-such-queue" });
    await expect(submitJobs(core.db.pool, [job(q), job("no-such-queue")])).rejects.toBeInstanceOf(NotFound);
    // any other failure is passed on as it is
    const outOfRange = await submitJobs(core.db.pool, [{ ...job(q), priority: 100_000 }]).catch((e: unknown) => e);
    expect(outOfRange).not.toBeInstanceOf(NotFound);
    expect(outOfRange).toMatchObject({ code: "22003" });
  });

  it("group-commits concurrent submits through JobStore, each caller getting its own jobs, and serves its reads and commands", async () => {
    const q = await core.queue();
    const store = new JobStore(core.db.pool, { submitWindowMs: 20 });
    try {
      const job = (p: string): NewJob => ({ queue: q, payload: Buffer.from(p), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null });
      const [a, b] = await Promise.all([store.submit([job("a1"), job("a2")]), store.submit([job("b1")])]);
      expect(a.map((s) => s.job.payload!.toString())).toEqual(["a1", "a2"]);
      expect(b.map((s) => s.job.payload!.toString())).toEqual(["b1"]);
      const [bad, good] = await Promise.allSettled([store.submit([job("x"), { ...job("y"), queue: "missing" }]), store.submit([job("z")])]);
      expect(bad.status).toBe("rejected");
      expect(good.status === "fulfilled" && good.value[0]!.job.payload!.toString()).toBe("z");
      const id = a[0]!.job.id;
      expect((await store.get(id, true))!.payload).toEqual(Buffer.from("a1"));
      expect((await store.get(id, false))!.payload).toBeNull();
      expect((await store.list({ queue: q, statuses: [] }, { size: 10, afterId: null, full: false })).jobs).toHaveLength(4);
      expect(await store.cancel(id, "why")).toMatchObject({ status: "DEAD_LETTERED", errorMessage: "why" });
      expect(await store.retry(id)).toMatchObject({ status: "PENDING", statusReason: "RETRIED_MANUALLY" });
      const events = await store.events(id, "0", 10);
      expect(events.map((e) => e.reason)).toEqual(["SUBMITTED", "CANCELLED", "RETRIED_MANUALLY"]);
      expect((await store.eventsOfJobs([{ jobId: id, afterId: events[1]!.id }], 10)).map((e) => e.reason)).toEqual(["RETRIED_MANUALLY"]);
      // drain() waits for a submit still in its window
      let landed = false;
      void store.submit([job("late")]).then(() => (landed = true));
      await store.drain();
      expect(landed).toBe(true);
    } finally {
      await store.drain();
    }
  });
});
