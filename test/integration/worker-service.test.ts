import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { JobStatus, ResultAckCode, TransitionReason, WorkerStatus } from "../../libs/proto/index.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";
import { jobRequest } from "../support/job-requests.js";
import { eventually } from "../support/eventually.js";

const job = jobRequest;

describe("WorkerService over real streams", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;
  const workers: RawWorker[] = [];
  const worker = async (queues: string[], concurrency: number, id = "") => {
    const w = await RawWorker.register(c, queues, concurrency, id);
    workers.push(w);
    return w;
  };
  let n = 0;
  const queue = async (settings: Record<string, unknown> = {}, paused = false) => {
    const name = `q${++n}`;
    await c.call(c.admin, "createQueue", { name, paused, settings });
    return name;
  };
  const events = async (jobId: string) =>
    (await db.pool.query("SELECT from_status, to_status, reason, attempt FROM job_events WHERE job_id = $1 ORDER BY id", [jobId])).rows;
  const reasons = async (jobId: string) => (await events(jobId)).map((e) => e.reason as string);
  /** Waits for the RUNNING mark (DELIVERED) of `attempt`, written a moment after the assignment reached the worker. */
  const delivered = (jobId: string, attempt = 1) =>
    eventually(`the DELIVERED event of ${jobId}'s attempt ${attempt}`, async () =>
      (await events(jobId)).some((e) => e.reason === "DELIVERED" && e.attempt === attempt),
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_HEARTBEAT_INTERVAL_MS: "1000", JQ_HEARTBEAT_TIMEOUT_MS: "60000" });
    c = api.client();
  });
  afterEach(() => {
    for (const w of workers.splice(0)) w.close();
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  describe("RegisterWorker", () => {
    it("assigns a UUID when none or a non-UUID is given, keeps a given one, and names unknown queues", async () => {
      const q = await queue();
      const a = await c.call(c.workers, "registerWorker", { workerId: "", hostname: "h", sdkVersion: "t", queues: [q, "later"], concurrency: 2, labels: { zone: "a" } });
      expect(a.worker!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.unknownQueues).toEqual(["later"]);
      expect(a.heartbeatInterval).toEqual({ seconds: "1", nanos: 0 });
      expect(a.worker).toMatchObject({ status: WorkerStatus.ONLINE, concurrency: 2, labels: { zone: "a" } });
      const b = await c.call(c.workers, "registerWorker", { workerId: "not-a-uuid", hostname: "h", sdkVersion: "t", queues: [q], concurrency: 1, labels: {} });
      expect(b.worker!.id).not.toBe("not-a-uuid");
      const mine = "0190f5b2-7c1a-7d3e-8f00-123456789abc";
      const d = await c.call(c.workers, "registerWorker", { workerId: mine, hostname: "h", sdkVersion: "t", queues: [q], concurrency: 1, labels: {} });
      expect(d.worker!.id).toBe(mine);
    });

    it.each([
      [{ queues: [] }, grpc.status.INVALID_ARGUMENT, /^queues: must name at least one/],
      [{ queues: ["bad name"] }, grpc.status.INVALID_ARGUMENT, /^queues\[0\]: /],
      [{ queues: ["a", "a"] }, grpc.status.INVALID_ARGUMENT, /^queues: names a twice/],
      [{ concurrency: 0 }, grpc.status.INVALID_ARGUMENT, /^concurrency: /],
      [{ concurrency: 1001 }, grpc.status.INVALID_ARGUMENT, /^concurrency: /],
      [{ hostname: "h".repeat(256) }, grpc.status.RESOURCE_EXHAUSTED, /^hostname: /],
      [{ labels: { "": "x" } }, grpc.status.INVALID_ARGUMENT, /^labels: /],
    ])("refuses %j", async (over, code, details) => {
      const req = { workerId: "", hostname: "h", sdkVersion: "t", queues: ["a"], concurrency: 1, labels: {}, ...over };
      await expectCode(c.call(c.workers, "registerWorker", req), code, details);
    });
  });

  it("delivers jobs, marks them RUNNING, and records results with every event in order", async () => {
    const q = await queue();
    const w = (await worker([q], 4)).open();
    const { job: j } = await c.call(c.jobs, "submitJob", job(q, { payload: Buffer.from("in") }));
    await w.until(() => w.assignments.length === 1);
    const a = w.assignments[0]!;
    expect(a).toMatchObject({ jobId: j!.id, queue: q, attempt: 1, retryCount: 0, maxRetries: 3 });
    expect(a.payload.toString()).toBe("in");
    const ack = await w.ackOf(w.succeed(a, "out"));
    expect(ack).toMatchObject({ code: ResultAckCode.ACCEPTED, jobStatus: JobStatus.DONE });
    const done = await c.call(c.jobs, "getJobStatus", { jobId: j!.id, view: 0 });
    expect(done.job).toMatchObject({ status: JobStatus.DONE, attempt: 1, workerId: w.id });
    expect(done.job!.result.toString()).toBe("out");
    expect(await events(j!.id)).toEqual([
      { from_status: null, to_status: "PENDING", reason: "SUBMITTED", attempt: 0 },
      { from_status: "PENDING", to_status: "ASSIGNED", reason: "CLAIMED", attempt: 1 },
      { from_status: "ASSIGNED", to_status: "RUNNING", reason: "DELIVERED", attempt: 1 },
      { from_status: "RUNNING", to_status: "DONE", reason: "SUCCEEDED", attempt: 1 },
    ]);
  });

  it("hands submitted jobs to a free stream in the submit itself, highest priority first, no more than its free slots", async () => {
    const q = await queue();
    const w = (await worker([q], 2)).open();
    // One job through first: the stream's opening claim has ended, and the stream is idle.
    await c.call(c.jobs, "submitJob", job(q));
    await w.until(() => w.assignments.length === 1);
    await w.ackOf(w.succeed(w.assignments.shift()!));
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [0, 1, 5].map((priority) => job(q, { priority })) });
    expect(results.map((r) => [r.job!.status, r.job!.workerId])).toEqual([
      [JobStatus.PENDING, ""],
      [JobStatus.ASSIGNED, w.id],
      [JobStatus.ASSIGNED, w.id],
    ]);
    const ids = results.map((r) => r.job!.id);
    await w.until(() => w.assignments.length === 2);
    expect(w.assignments.map((a) => [a.jobId, a.attempt, a.maxRetries])).toEqual([
      [ids[2], 1, 3],
      [ids[1], 1, 3],
    ]);
    await w.ackOf(w.succeed(w.assignments[0]!));
    await w.until(() => w.assignments.length === 3);
    expect(w.assignments[2]!.jobId).toBe(ids[0]);
    expect(await reasons(ids[2]!)).toEqual(["SUBMITTED", "CLAIMED", "DELIVERED", "SUCCEEDED"]);
  });

  it("frees a worker's slot when its result arrives, before the result is committed", async () => {
    const q = await queue();
    const w = (await worker([q], 1)).open();
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [job(q), job(q)] });
    await w.until(() => w.assignments.length === 1);
    const first = w.assignments[0]!;
    await delivered(first.jobId);
    // Hold the first job's row: its result cannot commit until this transaction ends.
    const blocker = await db.pool.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", [first.jobId]);
      const sent = w.succeed(first);
      // The worker no longer runs the first job, so the second reaches it while the first's result waits.
      await w.until(() => w.assignments.length === 2, 10_000, "the second job, with the first result uncommitted");
      expect(w.assignments[1]!.jobId).toBe(results.find((r) => r.job!.id !== first.jobId)!.job!.id);
      expect((await db.pool.query("SELECT status FROM jobs WHERE id = $1", [first.jobId])).rows[0].status).toBe("RUNNING");
      await blocker.query("ROLLBACK");
      expect(await w.ackOf(sent)).toMatchObject({ code: ResultAckCode.ACCEPTED, jobStatus: JobStatus.DONE });
    } finally {
      await blocker.query("ROLLBACK").catch(() => {});
      blocker.release();
    }
  });

  it("refuses a duplicate, an old-attempt and a foreign result, changing nothing", async () => {
    const q = await queue({ backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } });
    const w = (await worker([q], 1)).open();
    const other = await worker([q], 1);
    const { job: j } = await c.call(c.jobs, "submitJob", job(q));
    await w.until(() => w.assignments.length === 1);
    const first = w.assignments[0]!;
    expect((await w.ackOf(w.fail(first, "boom"))).code).toBe(ResultAckCode.ACCEPTED);
    await w.until(() => w.assignments.length === 2, 10_000, "the retry");
    const second = w.assignments[1]!;
    expect(second.attempt).toBe(2);
    // Wait for the dispatcher's RUNNING mark of attempt 2, so only the refused reports could change events.
    await delivered(j!.id, 2);
    const before = await events(j!.id);
    expect(before.at(-1)).toMatchObject({ reason: "DELIVERED", attempt: 2 });

    // An old attempt, a result from a worker that does not hold the job, and a bad id.
    expect((await w.ackOf(w.succeed(first))).code).toBe(ResultAckCode.STALE);
    await expectCode(
      c.call(c.workers, "reportResult", { workerId: other.id, result: { jobId: j!.id, attempt: 2, outcome: { $case: "success", value: { result: Buffer.alloc(0) } } } }, { headers: other.headers() }),
      grpc.status.FAILED_PRECONDITION,
      /held by another worker/,
    );
    expect(await events(j!.id)).toEqual(before);

    // The real result, then its duplicate.
    expect((await w.ackOf(w.succeed(second))).code).toBe(ResultAckCode.ACCEPTED);
    expect((await w.ackOf(w.succeed(second))).code).toBe(ResultAckCode.STALE);
    await expectCode(
      c.call(c.workers, "reportResult", { workerId: w.id, result: { jobId: j!.id, attempt: 2, outcome: { $case: "success", value: { result: Buffer.alloc(0) } } } }, { headers: w.headers() }),
      grpc.status.FAILED_PRECONDITION,
      /stale result/,
    );
    const final = await events(j!.id);
    expect(final.filter((e) => e.reason === "SUCCEEDED")).toHaveLength(1);
    await expectCode(
      c.call(c.workers, "reportResult", { workerId: w.id, result: { jobId: "0190f5b2-7c1a-7d3e-8f00-123456789abc", attempt: 1, outcome: { $case: "success", value: { result: Buffer.alloc(0) } } } }, { headers: w.headers() }),
      grpc.status.NOT_FOUND,
    );
    await expectCode(c.call(c.workers, "reportResult", { workerId: w.id, result: { jobId: j!.id, attempt: 0, outcome: undefined } }, { headers: w.headers() }), grpc.status.INVALID_ARGUMENT, /^result.attempt/);
    // Above a Postgres integer: refused as input, not an INTERNAL error from the result statement.
    const beyondInt4 = { jobId: j!.id, attempt: 4_294_967_295, outcome: { $case: "success" as const, value: { result: Buffer.alloc(0) } } };
    await expectCode(c.call(c.workers, "reportResult", { workerId: w.id, result: beyondInt4 }, { headers: w.headers() }), grpc.status.INVALID_ARGUMENT, /^result.attempt/);
  });

  it("retries failures with backoff and dead-letters after max retries, or at once when not retryable", async () => {
    const q = await queue({ maxRetries: 2, backoffBase: { seconds: "0", nanos: 50e6 }, backoffMax: { seconds: "0", nanos: 200e6 } });
    const w = (await worker([q], 2)).open();
    const { job: j } = await c.call(c.jobs, "submitJob", job(q));
    const times: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await w.until(() => w.assignments.filter((a) => a.jobId === j!.id).length === attempt, 10_000, `attempt ${attempt}`);
      times.push(Date.now());
      const a = w.assignments.filter((x) => x.jobId === j!.id)[attempt - 1]!;
      expect(a.attempt).toBe(attempt);
      expect(a.retryCount).toBe(attempt - 1);
      const ack = await w.ackOf(w.fail(a, `failure ${attempt}`));
      expect(ack.jobStatus).toBe(attempt < 3 ? JobStatus.PENDING : JobStatus.DEAD_LETTERED);
    }
    // Backoff: base·2^retry_count, so the second gap is at least 100 ms.
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(90);
    const dead = await c.call(c.jobs, "getJobStatus", { jobId: j!.id, view: 0 });
    expect(dead.job).toMatchObject({ status: JobStatus.DEAD_LETTERED, statusReason: TransitionReason.RETRIES_EXHAUSTED, errorMessage: "failure 3", retryCount: 2 });
    expect((await events(j!.id)).map((e) => e.reason)).toEqual([
      "SUBMITTED", "CLAIMED", "DELIVERED", "FAILED", "RETRY_SCHEDULED",
      "CLAIMED", "DELIVERED", "FAILED", "RETRY_SCHEDULED",
      "CLAIMED", "DELIVERED", "FAILED", "RETRIES_EXHAUSTED",
    ]);

    const { job: k } = await c.call(c.jobs, "submitJob", job(q));
    await w.until(() => w.assignments.some((a) => a.jobId === k!.id));
    const ka = w.assignments.find((a) => a.jobId === k!.id)!;
    expect((await w.ackOf(w.fail(ka, "bad input", false))).jobStatus).toBe(JobStatus.DEAD_LETTERED);
    expect((await c.call(c.jobs, "getJobStatus", { jobId: k!.id, view: 0 })).job!.statusReason).toBe(TransitionReason.NOT_RETRYABLE);
  });

  it("dispatches by priority, then age, within a queue", async () => {
    const q = await queue();
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [0, 5, 1, 5, 9, 0].map((priority) => job(q, { priority })) });
    const ids = results.map((r) => r.job!.id);
    const w = (await worker([q], 1)).open();
    for (let i = 0; i < 6; i++) {
      await w.until(() => w.assignments.length === i + 1);
      await w.ackOf(w.succeed(w.assignments[i]!));
    }
    expect(w.assignments.map((a) => a.jobId)).toEqual([ids[4], ids[1], ids[3], ids[2], ids[0], ids[5]]);
  });

  it("a paused queue dispatches nothing until resumed", async () => {
    const q = await queue({}, true);
    const open = await queue();
    const w = (await worker([q, open], 4)).open();
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [job(q), job(q)] });
    // One claim takes every due job of the worker's queues, oldest first, up to its 4 free slots:
    // the claim that delivers this later job would have taken the paused queue's two as well.
    const { job: probe } = await c.call(c.jobs, "submitJob", job(open));
    await w.until(() => w.assignments.some((a) => a.jobId === probe!.id), 10_000, "the open queue's job");
    expect(w.assignments.map((a) => a.jobId)).toEqual([probe!.id]);
    for (const r of results) expect(await reasons(r.job!.id)).toEqual(["SUBMITTED"]);
    await c.call(c.admin, "resumeQueue", { name: q });
    await w.until(() => w.assignments.length === 3);
    expect(w.assignments.slice(1).map((a) => a.jobId).sort()).toEqual(results.map((r) => r.job!.id).sort());
  });

  it("tells the worker at once when its running job is cancelled, and refuses the late result", async () => {
    const q = await queue();
    const w = (await worker([q], 1)).open();
    const { job: j } = await c.call(c.jobs, "submitJob", job(q));
    await w.until(() => w.assignments.length === 1);
    await delivered(j!.id);
    await c.call(c.jobs, "cancelJob", { jobId: j!.id, message: "stop it" });
    await w.until(() => w.cancellations.length === 1);
    expect(w.cancellations[0]).toMatchObject({ jobId: j!.id, attempt: 1, reason: TransitionReason.CANCELLED, message: "stop it" });
    expect((await w.ackOf(w.succeed(w.assignments[0]!))).code).toBe(ResultAckCode.STALE);
    const hb = await c.call(c.workers, "heartbeat", { workerId: w.id, heldJobs: [{ jobId: j!.id, attempt: 1 }], heldJobsComplete: false }, { headers: w.headers() });
    expect(hb.cancellations).toEqual([expect.objectContaining({ jobId: j!.id, attempt: 1, reason: TransitionReason.CANCELLED })]);
    // The freed slot is refilled.
    await c.call(c.jobs, "submitJob", job(q));
    await w.until(() => w.assignments.length === 2);
  });

  it("a second stream replaces the first, which ends with FAILED_PRECONDITION", async () => {
    const q = await queue();
    const w = await (await worker([q], 1)).opened();
    const again = new (RawWorker as unknown as { new (c: JqClient, id: string, secret: string): RawWorker })(c, w.id, w.secret).open();
    workers.push(again);
    await w.until(() => w.streamError !== undefined);
    expect(w.streamError?.code).toBe(grpc.status.FAILED_PRECONDITION);
    await c.call(c.jobs, "submitJob", job(q));
    await again.until(() => again.assignments.length === 1);
  });

  it("drains: the stream and the heartbeat say so, and no new job arrives", async () => {
    const q = await queue();
    const w = await (await worker([q], 2)).opened();
    const drained = await c.call(c.admin, "drainWorker", { workerId: w.id });
    expect(drained.worker!.status).toBe(WorkerStatus.DRAINING);
    await w.until(() => w.drains.length === 1);
    expect((await c.call(c.workers, "heartbeat", { workerId: w.id, heldJobs: [], heldJobsComplete: false }, { headers: w.headers() })).drain).toBe(true);
    // A second worker with one slot: the same wake-up that fills its slot would fill the draining
    // worker's two, so by the time it has run both jobs one after the other, any job the draining
    // worker could get, it would have got.
    const other = await (await worker([q], 1)).opened();
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [job(q), job(q)] });
    for (let i = 1; i <= 2; i++) {
      await other.until(() => other.assignments.length === i, 10_000, `job ${i} at the other worker`);
      expect((await other.ackOf(other.succeed(other.assignments[i - 1]!))).code).toBe(ResultAckCode.ACCEPTED);
    }
    expect(other.assignments.map((a) => a.jobId).sort()).toEqual(results.map((r) => r.job!.id).sort());
    expect(w.assignments).toHaveLength(0);
    await expectCode(c.call(c.admin, "drainWorker", { workerId: randomUUID() }), grpc.status.NOT_FOUND);
  });

  it("Deregister hands back held jobs at once and makes the worker OFFLINE", async () => {
    const q = await queue({ backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } });
    const w = (await worker([q], 2)).open();
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [job(q), job(q)] });
    await w.until(() => w.assignments.length === 2);
    for (const r of results) await delivered(r.job!.id);
    const res = await c.call(c.workers, "deregister", { workerId: w.id }, { headers: w.headers() });
    expect(res.releasedJobs).toBe(2);
    for (const r of results) {
      const j = (await c.call(c.jobs, "getJobStatus", { jobId: r.job!.id, view: 0 })).job!;
      expect(j.status).toBe(JobStatus.PENDING);
      expect(await events(r.job!.id)).toEqual([
        { from_status: null, to_status: "PENDING", reason: "SUBMITTED", attempt: 0 },
        { from_status: "PENDING", to_status: "ASSIGNED", reason: "CLAIMED", attempt: 1 },
        { from_status: "ASSIGNED", to_status: "RUNNING", reason: "DELIVERED", attempt: 1 },
        { from_status: "RUNNING", to_status: "FAILED", reason: "WORKER_LOST", attempt: 1 },
        { from_status: "FAILED", to_status: "PENDING", reason: "RETRY_SCHEDULED", attempt: 1 },
      ]);
    }
    await expectCode(c.call(c.workers, "heartbeat", { workerId: w.id, heldJobs: [], heldJobsComplete: false }, { headers: w.headers() }), grpc.status.FAILED_PRECONDITION, /OFFLINE/);
    expect((await c.call(c.workers, "deregister", { workerId: w.id }, { headers: w.headers() })).releasedJobs).toBe(0);
    // Another worker picks them up.
    const next = (await worker([q], 2)).open();
    await next.until(() => next.assignments.length === 2);
    expect(next.assignments.every((a) => a.attempt === 2)).toBe(true);
  });

  it("a worker registering again under the same id hands back what its previous incarnation held", async () => {
    const q = await queue({ backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } });
    const first = (await worker([q], 1)).open();
    const { job: j } = await c.call(c.jobs, "submitJob", job(q));
    await first.until(() => first.assignments.length === 1);
    await delivered(j!.id);
    first.close();
    await first.until(() => first.streamError !== undefined);
    // The process "restarts" with the same id: its old delivery will never be reported.
    const again = await worker([q], 1, first.id);
    expect(again.id).toBe(first.id);
    expect(await reasons(j!.id)).toEqual(["SUBMITTED", "CLAIMED", "DELIVERED", "WORKER_LOST", "RETRY_SCHEDULED"]);
    again.open();
    await again.until(() => again.assignments.length === 1);
    expect(again.assignments[0]).toMatchObject({ jobId: j!.id, attempt: 2 });
  });

  it("ListWorkers shows status, queues, held jobs and the replica; StreamJobs refuses unknown or OFFLINE workers", async () => {
    const q = await queue();
    const w = (await worker([q], 3)).open();
    await c.call(c.jobs, "submitJob", job(q));
    await w.until(() => w.assignments.length === 1);
    await delivered(w.assignments[0]!.jobId);
    const { workers: listed } = await c.call(c.admin, "listWorkers", { queue: q, statuses: [WorkerStatus.ONLINE], pageSize: 0, pageToken: "" });
    expect(listed).toEqual([expect.objectContaining({ id: w.id, queues: [q], concurrency: 3, activeJobs: 1, status: WorkerStatus.ONLINE })]);
    expect(listed[0]!.nodeId).not.toBe("");

    const unknown = new (RawWorker as unknown as { new (c: JqClient, id: string, secret: string): RawWorker })(c, randomUUID(), "no-secret").open();
    workers.push(unknown);
    await unknown.until(() => unknown.streamError !== undefined);
    expect(unknown.streamError?.code).toBe(grpc.status.NOT_FOUND);
    await expectCode(c.call(c.workers, "heartbeat", { workerId: "nope", heldJobs: [], heldJobsComplete: false }), grpc.status.INVALID_ARGUMENT, /^worker_id/);
  });
});
