import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markDelivered } from "../../libs/dispatch/index.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { newJob as job, startCoreJobs, type CoreJobs } from "../support/core-jobs.js";

// libs/jobs/submit-jobs.ts with workers offered (apps/api's dispatcher offers its free slots):
// a job is inserted ASSIGNED only where a claim would have given it to that worker at once, its
// events as after a claim, and never past an older claimable job, a pause or a concurrency limit.

describe("a submit that hands its jobs off", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("h");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  const leaseMs = 30_000;

  it("inserts an offered job ASSIGNED to its worker, attempt 1, leased, after its SUBMITTED event", async () => {
    const q = await core.queue({ maxRetries: 7, timeoutSeconds: 9 });
    const w = await core.worker(q);
    const [handed, plain] = await submitJobs(core.db.pool, [job(q), job(q)], { workers: [w, null], leaseMs });
    expect(handed!.job).toMatchObject({ status: "ASSIGNED", statusReason: "CLAIMED", attempt: 1, workerId: w });
    expect(handed!.handedOff).toEqual({ queueMaxRetries: 7, queueTimeoutSeconds: 9 });
    expect(plain!.job).toMatchObject({ status: "PENDING", attempt: 0, workerId: null });
    expect(plain!.handedOff).toBeUndefined();

    const row = await core.job(handed!.job.id);
    const lease = row.lease_expires_at!.getTime() - (row.assigned_at as Date).getTime();
    expect(lease).toBe(leaseMs);
    // As after any claim, the CLAIMED event waits for the job's next move (event-rows.test.ts).
    expect(await core.events(handed!.job.id)).toEqual([{ reason: "SUBMITTED", from: null, to: "PENDING", message: null, worker: null, attempt: 0 }]);
    await markDelivered(core.db.pool, [{ jobId: handed!.job.id, attempt: 1, workerId: w, deliveredAt: new Date() }]);
    expect(await core.events(handed!.job.id)).toEqual([
      { reason: "SUBMITTED", from: null, to: "PENDING", message: null, worker: null, attempt: 0 },
      { reason: "CLAIMED", from: "PENDING", to: "ASSIGNED", message: null, worker: w, attempt: 1 },
      { reason: "DELIVERED", from: "ASSIGNED", to: "RUNNING", message: null, worker: w, attempt: 1 },
    ]);
    const [, claimed] = (
      await core.db.pool.query<{ created_at: Date }>("SELECT created_at FROM job_events WHERE job_id = $1 ORDER BY id", [handed!.job.id])
    ).rows;
    expect(claimed!.created_at).toEqual(row.assigned_at);
  });

  it("leaves the job PENDING when the queue holds an older claimable job, so a hand-off never jumps it", async () => {
    const q = await core.queue();
    const older = await core.submit(q);
    const w = await core.worker(q);
    const [r] = await submitJobs(core.db.pool, [job(q)], { workers: [w], leaseMs });
    expect(r!.job.status).toBe("PENDING");
    expect(r!.handedOff).toBeUndefined();
    expect((await core.claim(q, w)).map((c) => c.id)).toEqual([older]);
  });

  it("hands off past a delayed job that is not due yet", async () => {
    const q = await core.queue();
    await core.submit(q, { delayMs: 60_000 });
    const w = await core.worker(q);
    const [r] = await submitJobs(core.db.pool, [job(q)], { workers: [w], leaseMs });
    expect(r!.job.status).toBe("ASSIGNED");
  });

  it("leaves the job PENDING in a paused queue or one with max_concurrency", async () => {
    const limited = await core.queue({ maxConcurrency: 5 });
    const paused = await core.queue();
    await core.db.pool.query("UPDATE queues SET paused = true WHERE name = $1", [paused]);
    const w = await core.worker([limited, paused]);
    const results = await submitJobs(core.db.pool, [job(limited), job(paused)], { workers: [w, w], leaseMs });
    expect(results.map((r) => [r.job.status, r.handedOff])).toEqual([
      ["PENDING", undefined],
      ["PENDING", undefined],
    ]);
    expect(await core.events(results[0]!.job.id)).toHaveLength(1);
  });
});
