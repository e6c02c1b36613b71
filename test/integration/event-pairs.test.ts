import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordSuccesses } from "../../libs/attempts/report-successes.js";
import { deleteJobsWithSentEvents } from "../../libs/jobs/delete-jobs.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { advanceRelayCursor, measureOutboxLag, readEventsAfter, readRelayCursor } from "../../libs/outbox/outbox-store.js";
import { newJob as job, startCoreJobs, type CoreJobs } from "../support/core-jobs.js";
import { eventually } from "../support/eventually.js";

// Event pairs (migration 0008, docs/write-path.md "Event pairs"): a statement that writes two events
// of one job (a hand-off's SUBMITTED and CLAIMED, a result's DELIVERED and SUCCEEDED) writes them
// as one row of job_event_rows. Each stays an event of its own in the job_events view, with ids n
// and n + 1; the relay may stop between them, and nothing deletes a row before both are sent.

describe("event pairs", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("p");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  const rowsOf = async (jobId: string) =>
    (
      await core.db.pool.query<{ id: string; event_type: string; next_event_type: string | null }>(
        "SELECT r.id::text, r.event_type, r.next_event_type FROM job_event_rows r WHERE r.job_id = $1 ORDER BY r.id",
        [jobId],
      )
    ).rows;
  const eventsOf = async (jobId: string) =>
    (
      await core.db.pool.query<{ id: string; row_id: string; xid: string; event_type: string; created_at: Date }>(
        "SELECT e.id::text, e.row_id::text, e.xid::text, e.event_type, e.created_at FROM job_events e WHERE e.job_id = $1 ORDER BY e.id",
        [jobId],
      )
    ).rows;

  it("writes a hand-off's SUBMITTED and CLAIMED as one row, and a plain submit's SUBMITTED alone", async () => {
    const q = await core.queue();
    const w = await core.worker(q);
    const [handed, plain] = await submitJobs(core.db.pool, [job(q), job(q)], { workers: [w, null], leaseMs: 30_000 });
    expect(handed!.job.status).toBe("ASSIGNED");
    const rows = await rowsOf(handed!.job.id);
    const row = rows[0];
    expect(rows).toEqual([{ id: row!.id, event_type: "job.submitted", next_event_type: "job.assigned" }]);
    const events = await eventsOf(handed!.job.id);
    expect(events.map((e) => [e.id, e.row_id, e.event_type])).toEqual([
      [row!.id, row!.id, "job.submitted"],
      [String(BigInt(row!.id) + 1n), row!.id, "job.assigned"],
    ]);
    expect((await rowsOf(plain!.job.id)).map((r) => [r.event_type, r.next_event_type])).toEqual([["job.submitted", null]]);
  });

  it("writes a result's DELIVERED and SUCCEEDED as one row, each with its own time", async () => {
    const q = await core.queue();
    const w = await core.worker(q);
    const id = await core.submit(q);
    const [claimed] = await core.claim(q, w);
    const deliveredAt = new Date(Date.now() - 5_000);
    await recordSuccesses(core.db.pool, [{ jobId: id, attempt: claimed!.attempt, workerId: w, outcome: { kind: "success", result: Buffer.from("ok") }, deliveredAt }]);
    expect((await rowsOf(id)).map((r) => [r.event_type, r.next_event_type])).toEqual([
      ["job.submitted", null],
      ["job.assigned", null],
      ["job.started", "job.succeeded"],
    ]);
    const [, , started, succeeded] = await eventsOf(id);
    expect(started!.created_at.getTime()).toBe(deliveredAt.getTime());
    expect(succeeded!.created_at.getTime()).toBeGreaterThan(deliveredAt.getTime());
    expect(BigInt(succeeded!.id)).toBe(BigInt(started!.id) + 1n);
    expect(await core.events(id)).toEqual([
      { reason: "SUBMITTED", from: null, to: "PENDING", message: null, worker: null, attempt: 0 },
      { reason: "CLAIMED", from: "PENDING", to: "ASSIGNED", message: null, worker: w, attempt: 1 },
      { reason: "DELIVERED", from: "ASSIGNED", to: "RUNNING", message: null, worker: w, attempt: 1 },
      { reason: "SUCCEEDED", from: "RUNNING", to: "DONE", message: null, worker: w, attempt: 1 },
    ]);
  });

  it("relays a pair one event at a time when the read stops between them, counts what is left, and deletes the row only once both are sent", async () => {
    const q = await core.queue();
    const w = await core.worker(q);
    const [handed] = await submitJobs(core.db.pool, [job(q)], { workers: [w], leaseMs: 30_000 });
    const id = handed!.job.id;
    // Every event before this job's, as sent: the relay's cursor at the last one.
    const [before] = (
      await core.db.pool.query<{ xid: string; id: string }>(
        "SELECT e.xid::text, e.id::text FROM job_events e WHERE e.job_id <> $1 ORDER BY e.xid DESC, e.id DESC LIMIT 1",
        [id],
      )
    ).rows;
    await advanceRelayCursor(core.db.pool, before!);

    // The relay reads below the cluster's transaction horizon: a transaction of another test file
    // open on the same Postgres holds it back for a moment.
    let read: Awaited<ReturnType<typeof readEventsAfter>> = [];
    await eventually("the hand-off's first event below the horizon", async () => (read = await readEventsAfter(core.db.pool, await readRelayCursor(core.db.pool), 1)).length === 1);
    const [first] = read;
    expect([first!.jobId, first!.eventType]).toEqual([id, "job.submitted"]);
    await advanceRelayCursor(core.db.pool, first!.position);
    expect((await measureOutboxLag(core.db.pool, new Date())).rows).toBe(1);
    // The first event is sent, the second is not: the row stays.
    await core.db.pool.query("UPDATE jobs SET status = 'DONE', status_reason = 'SUCCEEDED' WHERE id = $1", [id]);
    await deleteJobsWithSentEvents(core.db.pool, "SELECT $1::uuid AS id", [id]);
    expect(await rowsOf(id)).toHaveLength(1);

    let rest: Awaited<ReturnType<typeof readEventsAfter>> = [];
    await eventually("the second event below the horizon", async () => (rest = await readEventsAfter(core.db.pool, await readRelayCursor(core.db.pool), 10)).length > 0);
    expect(rest.map((e) => [e.jobId, e.eventType, e.id])).toEqual([[id, "job.assigned", String(BigInt(first!.id) + 1n)]]);
    await advanceRelayCursor(core.db.pool, rest[0]!.position);
    expect(await measureOutboxLag(core.db.pool, new Date())).toEqual({ rows: 0, oldestAgeMs: null });
    expect(await readEventsAfter(core.db.pool, await readRelayCursor(core.db.pool), 10)).toEqual([]);
    await deleteJobsWithSentEvents(core.db.pool, "SELECT $1::uuid AS id", [id]);
    expect(await rowsOf(id)).toEqual([]);
  });
});
