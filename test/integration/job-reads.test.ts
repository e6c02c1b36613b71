import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getJob,
  HELD_STATUSES,
  heldJobs,
  listEventsOfJobs,
  listJobEvents,
  listJobs,
  readJobStates,
  UNHELD_STATUSES,
} from "../../libs/jobs/index.js";
import { markDelivered } from "../../libs/dispatch/index.js";
import { startCoreJobs, type CoreJobs } from "../support/core-jobs.js";

// The reads of libs/jobs/read-jobs.ts against real Postgres, called in this process: which rows
// each filter returns, in which order, how pages continue, and what the basic view leaves out.

describe("job reads", () => {
  let core: CoreJobs;
  let q1: string;
  let q2: string;
  /** Job ids in submit order (UUIDv7: ascending). */
  const ids: string[] = [];
  let worker: string;

  beforeAll(async () => {
    core = await startCoreJobs("r");
    [q1, q2] = [await core.queue(), await core.queue()];
    for (const q of [q1, q1, q2, q1, q2]) ids.push(await core.submit(q, { payload: Buffer.from(`p${ids.length}`) }));
    worker = await core.worker(q1);
    await core.claim(q1, worker); // ids[0] → ASSIGNED
  });
  afterAll(async () => {
    await core.db.drop();
  });

  it("reads one job, with its payload only in the full view", async () => {
    const full = await getJob(core.db.pool, ids[1]!);
    expect(full).toMatchObject({ id: ids[1], queue: q1, status: "PENDING", statusReason: "SUBMITTED", attempt: 0, retryCount: 0 });
    expect(full!.payload).toEqual(Buffer.from("p1"));
    const basic = await getJob(core.db.pool, ids[1]!, false);
    expect(basic!.payload).toBeNull();
    expect(await getJob(core.db.pool, crypto.randomUUID())).toBeUndefined();
  });

  it("lists jobs newest first, filtered by queue, and pages strictly after the cursor", async () => {
    const all = await listJobs(core.db.pool, { queue: null, statuses: [] }, { size: 10, afterId: null, full: false });
    expect(all.jobs.map((j) => j.id)).toEqual([...ids].reverse());
    expect(all.more).toBe(false);
    expect(all.jobs.every((j) => j.payload === null)).toBe(true);

    const first = await listJobs(core.db.pool, { queue: q1, statuses: [] }, { size: 2, afterId: null, full: true });
    expect(first.jobs.map((j) => j.id)).toEqual([ids[3], ids[1]]);
    expect(first.more).toBe(true);
    expect(first.jobs[0]!.payload).toEqual(Buffer.from("p3"));
    const second = await listJobs(core.db.pool, { queue: q1, statuses: [] }, { size: 2, afterId: ids[1]!, full: false });
    expect(second.jobs.map((j) => j.id)).toEqual([ids[0]]);
    expect(second.more).toBe(false);
    const exact = await listJobs(core.db.pool, { queue: q2, statuses: [] }, { size: 2, afterId: null, full: false });
    expect(exact).toMatchObject({ more: false });
    expect(exact.jobs.map((j) => j.id)).toEqual([ids[4], ids[2]]);
  });

  it("lists jobs by status across queues or in one, with the same paging", async () => {
    const pending = await listJobs(core.db.pool, { queue: null, statuses: ["PENDING"] }, { size: 3, afterId: null, full: false });
    expect(pending.jobs.map((j) => j.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(pending.more).toBe(true);
    expect(pending.jobs.every((j) => j.payload === null)).toBe(true);
    const rest = await listJobs(core.db.pool, { queue: null, statuses: ["PENDING"] }, { size: 3, afterId: ids[2]!, full: true });
    expect(rest.jobs.map((j) => j.id)).toEqual([ids[1]]);
    expect(rest.more).toBe(false);
    expect(rest.jobs[0]!.payload).toEqual(Buffer.from("p1"));
    const exactly = await listJobs(core.db.pool, { queue: q2, statuses: ["PENDING"] }, { size: 2, afterId: null, full: false });
    expect(exactly.jobs.map((j) => j.id)).toEqual([ids[4], ids[2]]);
    expect(exactly.more).toBe(false);
    const two = await listJobs(core.db.pool, { queue: q1, statuses: ["PENDING", "ASSIGNED"] }, { size: 10, afterId: null, full: false });
    expect(two.jobs.map((j) => [j.id, j.status])).toEqual([
      [ids[3], "PENDING"],
      [ids[1], "PENDING"],
      [ids[0], "ASSIGNED"],
    ]);
  });

  it("lists held jobs by status through the workers' index, with the same filters and paging", async () => {
    // ASSIGNED and RUNNING jobs are not in jobs_queue_status_id_idx (migration 0010).
    const held = await listJobs(core.db.pool, { queue: null, statuses: ["ASSIGNED", "RUNNING"] }, { size: 10, afterId: null, full: true });
    expect(held.jobs.map((j) => [j.id, j.status])).toEqual([[ids[0], "ASSIGNED"]]);
    expect(held.jobs[0]!.payload).toEqual(Buffer.from("p0"));
    expect((await listJobs(core.db.pool, { queue: q2, statuses: ["ASSIGNED"] }, { size: 10, afterId: null, full: false })).jobs).toEqual([]);
    expect((await listJobs(core.db.pool, { queue: q1, statuses: ["RUNNING"] }, { size: 10, afterId: null, full: false })).jobs).toEqual([]);
    const page = await listJobs(core.db.pool, { queue: q1, statuses: ["ASSIGNED", "PENDING"] }, { size: 2, afterId: ids[3]!, full: false });
    expect(page.jobs.map((j) => j.id)).toEqual([ids[1], ids[0]]);
    expect(page.more).toBe(false);
    expect((await listJobs(core.db.pool, { queue: q1, statuses: ["ASSIGNED"] }, { size: 2, afterId: ids[0]!, full: false })).jobs).toEqual([]);
  });

  it("names in its queries the statuses each partial index holds, so the planner can use it", async () => {
    // A status added to the lifecycle lands in UNHELD_STATUSES; until a migration adds it to the
    // index too, queries saying `status IN UNHELD_STATUSES_SQL` could no longer use the index.
    const { rows } = await core.db.pool.query<{ name: string; predicate: string }>(
      `SELECT c.relname AS name, pg_get_expr(i.indpred, i.indrelid) AS predicate FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relname IN ('jobs_queue_status_id_idx', 'jobs_worker_held_idx')`,
    );
    const statuses = (name: string) => [...rows.find((r) => r.name === name)!.predicate.matchAll(/'(\w+)'::job_status/g)].map((m) => m[1]);
    expect(statuses("jobs_queue_status_id_idx")).toEqual([...UNHELD_STATUSES]);
    expect(statuses("jobs_worker_held_idx")).toEqual([...HELD_STATUSES]);
  });

  it("reads a job's events after a cursor, and several jobs' events in one query", async () => {
    // A job of its own queue, claimed and marked delivered: three events (the claim's is written
    // with the mark: docs/write-path.md, "The deferred CLAIMED event").
    const q3 = await core.queue();
    const id = await core.submit(q3);
    const w3 = await core.worker(q3);
    const [claimed] = await core.claim(q3, w3);
    await markDelivered(core.db.pool, [{ jobId: id, attempt: claimed!.attempt, workerId: w3, deliveredAt: new Date() }]);
    const events = await listJobEvents(core.db.pool, id, "0", 10);
    expect(events.map((e) => [e.reason, e.fromStatus, e.toStatus, e.eventType])).toEqual([
      ["SUBMITTED", null, "PENDING", "job.submitted"],
      ["CLAIMED", "PENDING", "ASSIGNED", "job.assigned"],
      ["DELIVERED", "ASSIGNED", "RUNNING", "job.started"],
    ]);
    expect(events[1]).toMatchObject({ jobId: id, queue: q3, workerId: w3, attempt: 1 });
    expect((await listJobEvents(core.db.pool, id, events[0]!.id, 10)).map((e) => e.id)).toEqual([events[1]!.id, events[2]!.id]);
    expect((await listJobEvents(core.db.pool, id, events[1]!.id, 10)).map((e) => e.id)).toEqual([events[2]!.id]);
    expect(await listJobEvents(core.db.pool, id, "0", 1)).toHaveLength(1);

    expect(await listEventsOfJobs(core.db.pool, [], 10)).toEqual([]);
    const several = await listEventsOfJobs(core.db.pool, [{ jobId: id, afterId: events[0]!.id }, { jobId: ids[2]!, afterId: "0" }], 10);
    expect(several.map((e) => [e.jobId, e.reason])).toEqual([
      [ids[2], "SUBMITTED"],
      [id, "CLAIMED"],
      [id, "DELIVERED"],
    ]); // in event id order: ids[2] was submitted before this job was marked
  });

  it("reads the states a heartbeat checks, and what a worker holds", async () => {
    expect(await readJobStates(core.db.pool, [])).toEqual(new Map());
    const states = await readJobStates(core.db.pool, [ids[0]!, ids[1]!]);
    expect(states.get(ids[0]!)).toEqual({ id: ids[0], status: "ASSIGNED", attempt: 1, workerId: worker, statusReason: "CLAIMED" });
    expect(states.get(ids[1]!)).toEqual({ id: ids[1], status: "PENDING", attempt: 0, workerId: null, statusReason: "SUBMITTED" });
    expect(await heldJobs(core.db.pool, worker)).toEqual([{ id: ids[0], attempt: 1 }]);
    expect(await heldJobs(core.db.pool, crypto.randomUUID())).toEqual([]);
  });
});
