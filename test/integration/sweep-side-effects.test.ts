import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOBS_AVAILABLE_CHANNEL, WORKER_CONTROL_CHANNEL } from "../../libs/notifications/index.js";
import {
  LEASE_EXPIRED_MESSAGE,
  sweepExecutionTimeouts,
  sweepExpiredJobs,
  sweepExpiredWorkers,
  sweepLostWorkers,
  sweepRetention,
  sweepUndeliveredAssignments,
  wakeDueQueues,
} from "../../libs/sweeps/index.js";
import { RELAY_UP_TO_JOB } from "../support/event-log.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { newJob, startCoreJobs, type CoreJobs } from "../support/core-jobs.js";
import { untilIdsOlderThan } from "../support/job-age.js";
import { pagesRead } from "../support/pages-read.js";

// What the scheduler's sweeps (libs/sweeps) do besides moving rows, which scheduler-duties.test.ts
// checks: whom they tell (a worker to abort a timed-out job, a replica that a worker is gone),
// the messages they record, each worker's own hand-back, batch limits, and worker retention.

describe("sweep side effects", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("s");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  const expire = (ids: readonly string[]) => core.db.pool.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])", [ids]);

  it("hands back each worker's expired assignments under that worker, oldest lease first, a batch at a time", async () => {
    const q = await core.queue();
    const [a, b, c] = [await core.submit(q), await core.submit(q), await core.submit(q)];
    const [w1, w2] = [await core.worker(q), await core.worker(q)];
    await core.claim(q, w1, 2);
    await core.claim(q, w2, 1);
    await expire([a, b, c]);
    await core.db.pool.query("UPDATE jobs SET lease_expires_at = lease_expires_at - interval '1 minute' WHERE id = $1", [c]);
    expect(await sweepUndeliveredAssignments(core.db.pool, 1)).toBe(1);
    expect((await core.job(c)).status).toBe("PENDING");
    expect(await sweepUndeliveredAssignments(core.db.pool)).toBe(2);
    expect((await core.events(a)).at(-1)).toMatchObject({ reason: "LEASE_EXPIRED", worker: w1, message: LEASE_EXPIRED_MESSAGE });
    expect((await core.events(b)).at(-1)).toMatchObject({ reason: "LEASE_EXPIRED", worker: w1 });
    expect((await core.events(c)).at(-1)).toMatchObject({ reason: "LEASE_EXPIRED", worker: w2 });
  });

  it("tells the worker of a timed-out job to abort it, and records why", async () => {
    const q = await core.queue({ maxRetries: 0 });
    const id = await core.submit(q);
    const w = await core.worker(q);
    const [job] = await core.claim(q, w);
    await core.db.pool.query("UPDATE jobs SET status = 'RUNNING' WHERE id = $1", [id]);
    await expire([id]);
    const control = await core.listen(WORKER_CONTROL_CHANNEL);
    try {
      expect(await sweepExecutionTimeouts(core.db.pool)).toBe(1);
      expect((await control.waitFor(1)).map((p) => JSON.parse(p))).toEqual([
        { kind: "cancel", worker: w, job: id, attempt: job!.attempt, reason: "TIMEOUT", message: "execution timeout passed" },
      ]);
    } finally {
      await control.end();
    }
    expect(await core.job(id)).toMatchObject({ status: "DEAD_LETTERED", status_reason: "RETRIES_EXHAUSTED", error_message: "execution timeout passed" });
    expect((await core.events(id)).slice(-2).map((e) => [e.reason, e.message])).toEqual([
      ["TIMEOUT", "execution timeout passed"],
      ["RETRIES_EXHAUSTED", "execution timeout passed"],
    ]);
  });

  it("times out a batch at a time", async () => {
    const q = await core.queue();
    const ids = [await core.submit(q), await core.submit(q)];
    const w = await core.worker(q);
    await core.claim(q, w, 2);
    await core.db.pool.query("UPDATE jobs SET status = 'RUNNING' WHERE id = ANY($1::uuid[])", [ids]);
    await expire(ids);
    expect(await sweepExecutionTimeouts(core.db.pool, 1)).toBe(1);
    expect(await sweepExecutionTimeouts(core.db.pool, 1)).toBe(1);
    expect(await sweepExecutionTimeouts(core.db.pool, 1)).toBe(0);
  });

  it("tells the replicas that a lost worker is OFFLINE, and records why its jobs were released", async () => {
    const q = await core.queue();
    const id = await core.submit(q);
    const [w1, w2] = [await core.worker(q), await core.worker(q)];
    await core.claim(q, w1);
    await core.db.pool.query("UPDATE workers SET last_heartbeat = now() - interval '1 minute' WHERE worker_id = ANY($1::uuid[])", [[w1, w2]]);
    await core.db.pool.query("UPDATE jobs SET status = 'RUNNING' WHERE id = $1", [id]);
    const control = await core.listen(WORKER_CONTROL_CHANNEL);
    try {
      const first = await sweepLostWorkers(core.db.pool, 30_000, 1);
      expect(first).toHaveLength(1);
      const second = await sweepLostWorkers(core.db.pool, 30_000, 1);
      expect([...first, ...second].sort()).toEqual([w1, w2].sort());
      expect((await control.waitFor(2)).map((p) => JSON.parse(p))).toEqual([
        { kind: "offline", worker: first[0] },
        { kind: "offline", worker: second[0] },
      ]);
    } finally {
      await control.end();
    }
    expect((await core.events(id)).slice(-2).map((e) => [e.reason, e.message])).toEqual([
      ["WORKER_LOST", "worker lost: no heartbeat within the timeout"],
      ["RETRY_SCHEDULED", expect.stringMatching(/^retry 1 of 3 in \d+ ms$/)],
    ]);
  });

  it("expires PENDING jobs with the reason in the event and the job, as finished, a batch at a time", async () => {
    const q = await core.queue({ ttlSeconds: 1 });
    const [a, b] = [await core.submit(q), await core.submit(q)];
    // Created over 2 s ago by the ids (made at submit), so over the 1 s TTL by created_at too.
    await untilIdsOlderThan(core.db.pool, [a, b], 2);
    await core.db.pool.query("UPDATE jobs SET updated_at = now() - interval '2 minutes', not_before = now() - interval '2 minutes' WHERE id = ANY($1::uuid[])", [[a, b]]);
    expect(await sweepExpiredJobs(core.db.pool, 1)).toBe(1);
    expect(await sweepExpiredJobs(core.db.pool)).toBe(1);
    expect(await sweepExpiredJobs(core.db.pool)).toBe(0);
    const message = "the queue's TTL passed while the job was PENDING";
    for (const id of [a, b]) {
      const job = await core.job(id);
      expect(job).toMatchObject({ status: "DEAD_LETTERED", status_reason: "EXPIRED", error_message: message, not_before: null });
      expect(job.completed_at).toBeInstanceOf(Date);
      expect((await core.events(id)).at(-1)).toMatchObject({ reason: "EXPIRED", from: "PENDING", to: "DEAD_LETTERED", message });
    }
  });

  it("reads only the jobs due before a TTL's cutoff, however many young ones wait", async () => {
    const q = await core.queue({ ttlSeconds: 3600 });
    for (let i = 0; i < 5; i++) await submitJobs(core.db.pool, Array.from({ length: 1000 }, () => newJob(q)));
    await core.db.pool.query("ANALYZE jobs");
    const sweep = await pagesRead(core.db.pool, ["jobs"], (c) => sweepExpiredJobs(c));
    expect(sweep.result).toBe(0);
    // Before the bound it fetched every PENDING job of the queue to read its updated_at: 5,000
    // rows, over a hundred pages, on every sweep (each second).
    expect(sweep.pages.jobs).toBeLessThan(10);
  });

  it("reads only the jobs due before a TTL's cutoff, however many old ones are delayed past it", async () => {
    const q = await core.queue({ ttlSeconds: 1 });
    const hour = 3_600_000;
    for (let i = 0; i < 15; i++) await submitJobs(core.db.pool, Array.from({ length: 1000 }, () => newJob(q, { priority: 5, delayMs: hour })));
    const [high] = await submitJobs(core.db.pool, [newJob(q, { priority: 9, delayMs: hour })]);
    const due = await core.submit(q, { priority: 0 });
    // Created over 2 s ago by the ids (made at submit), so over the 1 s TTL by created_at too.
    await untilIdsOlderThan(core.db.pool, [high!.job.id, due], 2);
    // The due job at the lowest priority is found past the delayed ones of the higher priorities.
    expect(await sweepExpiredJobs(core.db.pool)).toBe(1);
    expect(await core.job(due)).toMatchObject({ status: "DEAD_LETTERED", status_reason: "EXPIRED" });
    expect(await core.job(high!.job.id)).toMatchObject({ status: "PENDING" });
    await core.db.pool.query("ANALYZE jobs");
    const sweep = await pagesRead(core.db.pool, ["jobs", "jobs_claim_idx"], (c) => sweepExpiredJobs(c));
    expect(sweep.result).toBe(0);
    // Bounded by id, the sweep fetched all 15,001 delayed jobs (created before the cutoff) to read
    // their not_before: hundreds of pages of jobs on every sweep.
    expect(sweep.pages.jobs).toBeLessThan(10);
    // A few descents of the index per priority present, not a walk of its 15,001 entries (about 90 pages).
    expect(sweep.pages.jobs_claim_idx).toBeLessThan(40);
  });

  it("removes dead letters past retention too, a batch at a time", async () => {
    const q = await core.queue({ retentionSeconds: 1, maxRetries: 0 });
    const [a, b] = [await core.deadLetter(q), await core.deadLetter(q)];
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await core.db.pool.query("UPDATE jobs SET completed_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])", [[a, b]]);
    await core.db.pool.query(RELAY_UP_TO_JOB, [b]);
    expect(await sweepRetention(core.db.pool, 1)).toBe(1);
    expect(await sweepRetention(core.db.pool, 1)).toBe(1);
    expect(await sweepRetention(core.db.pool, 1)).toBe(0);
    expect(await core.job(a)).toBeUndefined();
    expect(await core.job(b)).toBeUndefined();
  });

  it("deletes OFFLINE workers silent longer than the retention, a batch at a time, and no one else", async () => {
    const q = await core.queue();
    const [old1, old2, recent, online] = [await core.worker(q), await core.worker(q), await core.worker(q), await core.worker(q)];
    await core.db.pool.query("UPDATE workers SET status = 'OFFLINE', last_heartbeat = now() - interval '2 hours' WHERE worker_id = ANY($1::uuid[])", [[old1, old2]]);
    await core.db.pool.query("UPDATE workers SET status = 'OFFLINE' WHERE worker_id = $1", [recent]);
    await core.db.pool.query("UPDATE workers SET last_heartbeat = now() - interval '2 hours' WHERE worker_id = $1", [online]);
    expect(await sweepExpiredWorkers(core.db.pool, 3_600_000, 1)).toBe(1);
    expect(await sweepExpiredWorkers(core.db.pool, 3_600_000)).toBe(1);
    expect(await sweepExpiredWorkers(core.db.pool, 3_600_000)).toBe(0);
    const { rows } = await core.db.pool.query("SELECT worker_id FROM workers WHERE worker_id = ANY($1::uuid[]) ORDER BY worker_id", [[old1, old2, recent, online]]);
    expect(rows.map((r) => r.worker_id)).toEqual([recent, online].sort());
  });

  it("wakes no one when nothing became due", async () => {
    // retries scheduled by the tests above must not come due during this one
    await core.db.pool.query("UPDATE jobs SET not_before = NULL WHERE status = 'PENDING'");
    const q = await core.queue();
    const id = await core.submit(q);
    await core.db.pool.query("UPDATE jobs SET not_before = now() + interval '1 hour' WHERE id = $1", [id]);
    const wake = await core.listen(JOBS_AVAILABLE_CHANNEL);
    try {
      expect(await wakeDueQueues(core.db.pool, 1000)).toBe(0);
      await core.db.pool.query("UPDATE jobs SET not_before = now() - interval '10 milliseconds' WHERE id = $1", [id]);
      expect(await wakeDueQueues(core.db.pool, 1000)).toBe(1);
      expect(await wake.waitFor(1)).toEqual([q]);
    } finally {
      await wake.end();
    }
  });
});
