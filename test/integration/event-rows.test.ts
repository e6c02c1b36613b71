import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishAttempts } from "../../libs/attempts/finish-attempts.js";
import { recordSuccesses } from "../../libs/attempts/report-successes.js";
import { handBackUndelivered, markDelivered } from "../../libs/dispatch/index.js";
import { deadLetterJobs } from "../../libs/jobs/dead-letters.js";
import { deleteJobsWithSentEvents } from "../../libs/jobs/delete-jobs.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { TRANSITIONS, type TransitionReason } from "../../libs/lifecycle/index.js";
import { advanceRelayCursor, measureOutboxLag, readEventsAfter, readRelayCursor } from "../../libs/outbox/outbox-store.js";
import { newJob as job, startCoreJobs, type CoreJobs } from "../support/core-jobs.js";
import { eventually } from "../support/eventually.js";

// Event rows (migrations 0008 and 0013, docs/write-path.md "Event rows" and "The deferred CLAIMED
// event"): a statement that writes several events of one job writes them as one row of
// job_event_rows, up to three. Each stays an event of its own in the job_events view, with ids n,
// n + 1, n + 2; the relay may stop between them, and nothing deletes a row before all are sent.
// A claim (or a hand-off at submit) writes no event: the statement that next moves the job out of
// ASSIGNED writes its CLAIMED event first, with the claim's worker, attempt and time.

describe("event rows", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("p");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  const rowsOf = async (jobId: string) =>
    (
      await core.db.pool.query<{ types: (string | null)[] }>(
        "SELECT ARRAY[r.event_type, r.next_event_type, r.third_event_type] AS types FROM job_event_rows r WHERE r.job_id = $1 ORDER BY r.id",
        [jobId],
      )
    ).rows.map((r) => r.types.filter((t) => t !== null));
  const eventsOf = async (jobId: string) =>
    (
      await core.db.pool.query<{ id: string; row_id: string; event_type: string; worker_id: string | null; attempt: number; created_at: Date }>(
        "SELECT e.id::text, e.row_id::text, e.event_type, e.worker_id, e.attempt, e.created_at FROM job_events e WHERE e.job_id = $1 ORDER BY e.id",
        [jobId],
      )
    ).rows;

  /** A job claimed by a new worker, with the claim's time as the job row has it. */
  const claimedJob = async () => {
    const q = await core.queue();
    const w = await core.worker(q);
    const id = await core.submit(q);
    const [claimed] = await core.claim(q, w);
    return { q, w, id, attempt: claimed!.attempt, claimedAt: (await core.job(id)).assigned_at as Date };
  };

  /** How each move out of ASSIGNED in the lifecycle table is made, by the code that makes it. */
  const leaveAssigned: Record<string, (j: Awaited<ReturnType<typeof claimedJob>>) => Promise<unknown>> = {
    DELIVERED: (j) => markDelivered(core.db.pool, [{ jobId: j.id, attempt: j.attempt, workerId: j.w, deliveredAt: new Date() }]),
    DELIVERY_FAILED: (j) => handBackUndelivered(core.db.pool, j.w, [{ jobId: j.id, attempt: j.attempt }], "DELIVERY_FAILED", "why"),
    LEASE_EXPIRED: (j) => handBackUndelivered(core.db.pool, j.w, [{ jobId: j.id, attempt: j.attempt }], "LEASE_EXPIRED", "why"),
    WORKER_LOST: (j) => handBackUndelivered(core.db.pool, j.w, [{ jobId: j.id, attempt: j.attempt }], "WORKER_LOST", "why"),
    CANCELLED: (j) => deadLetterJobs(core.db.pool, [j.id], "CANCELLED", "stop"),
  };

  it("writes no event for a claim, and the claim's CLAIMED first in the row of each move out of ASSIGNED", async () => {
    const moves = TRANSITIONS.filter((r) => r.from === "ASSIGNED");
    expect(moves.map((r) => r.reason).sort()).toEqual(Object.keys(leaveAssigned).sort());
    for (const rule of moves) {
      const j = await claimedJob();
      expect(await rowsOf(j.id), rule.reason).toEqual([["job.submitted"]]);
      await leaveAssigned[rule.reason as TransitionReason]!(j);
      expect((await core.job(j.id)).status, rule.reason).toBe(rule.to);
      expect(await rowsOf(j.id), rule.reason).toEqual([["job.submitted"], ["job.assigned", rule.eventType]]);
      expect((await core.events(j.id)).map((e) => [e.reason, e.from, e.to]), rule.reason).toEqual([
        ["SUBMITTED", null, "PENDING"],
        ["CLAIMED", "PENDING", "ASSIGNED"],
        [rule.reason, "ASSIGNED", rule.to],
      ]);
      const [, claimed, moved] = await eventsOf(j.id);
      expect([claimed!.worker_id, claimed!.attempt, claimed!.created_at], rule.reason).toEqual([j.w, j.attempt, j.claimedAt]);
      expect([claimed!.row_id, BigInt(moved!.id)], rule.reason).toEqual([claimed!.id, BigInt(claimed!.id) + 1n]);
    }
  });

  it("writes a CLAIMED event only for the jobs of a mixed cancel that were ASSIGNED", async () => {
    const j = await claimedJob();
    const pending = await core.submit(j.q);
    await deadLetterJobs(core.db.pool, [j.id, pending], "CANCELLED", "stop");
    expect(await rowsOf(j.id)).toEqual([["job.submitted"], ["job.assigned", "job.cancelled"]]);
    expect(await rowsOf(pending)).toEqual([["job.submitted"], ["job.cancelled"]]);
    expect((await core.events(pending)).map((e) => [e.reason, e.from, e.worker])).toEqual([
      ["SUBMITTED", null, null],
      ["CANCELLED", "PENDING", null],
    ]);
  });

  it("writes a hand-off's SUBMITTED alone, and its CLAIMED with the next move, at the hand-off's time", async () => {
    const q = await core.queue();
    const w = await core.worker(q);
    const [handed] = await submitJobs(core.db.pool, [job(q)], { workers: [w], leaseMs: 30_000 });
    const id = handed!.job.id;
    expect(await rowsOf(id)).toEqual([["job.submitted"]]);
    const assignedAt = (await core.job(id)).assigned_at as Date;
    await markDelivered(core.db.pool, [{ jobId: id, attempt: 1, workerId: w, deliveredAt: new Date() }]);
    expect(await rowsOf(id)).toEqual([["job.submitted"], ["job.assigned", "job.started"]]);
    const [, claimed] = await eventsOf(id);
    expect([claimed!.worker_id, claimed!.attempt, claimed!.created_at]).toEqual([w, 1, assignedAt]);
  });

  it("writes a result that comes before its RUNNING mark as one row of CLAIMED, DELIVERED and SUCCEEDED, each with its own time", async () => {
    const j = await claimedJob();
    const deliveredAt = new Date(j.claimedAt.getTime() + 1);
    await recordSuccesses(core.db.pool, [{ jobId: j.id, attempt: j.attempt, workerId: j.w, outcome: { kind: "success", result: Buffer.from("ok") }, deliveredAt }]);
    expect(await rowsOf(j.id)).toEqual([["job.submitted"], ["job.assigned", "job.started", "job.succeeded"]]);
    const [, claimed, started, succeeded] = await eventsOf(j.id);
    expect(claimed!.created_at).toEqual(j.claimedAt);
    expect(started!.created_at).toEqual(deliveredAt);
    expect(succeeded!.created_at.getTime()).toBeGreaterThanOrEqual(j.claimedAt.getTime());
    expect([started!.id, succeeded!.id].map(BigInt)).toEqual([BigInt(claimed!.id) + 1n, BigInt(claimed!.id) + 2n]);
    expect(await core.events(j.id)).toEqual([
      { reason: "SUBMITTED", from: null, to: "PENDING", message: null, worker: null, attempt: 0 },
      { reason: "CLAIMED", from: "PENDING", to: "ASSIGNED", message: null, worker: j.w, attempt: 1 },
      { reason: "DELIVERED", from: "ASSIGNED", to: "RUNNING", message: null, worker: j.w, attempt: 1 },
      { reason: "SUCCEEDED", from: "RUNNING", to: "DONE", message: null, worker: j.w, attempt: 1 },
    ]);

    // Marked first, the success is a row of its own.
    const k = await claimedJob();
    await markDelivered(core.db.pool, [{ jobId: k.id, attempt: k.attempt, workerId: k.w, deliveredAt: new Date() }]);
    await recordSuccesses(core.db.pool, [{ jobId: k.id, attempt: k.attempt, workerId: k.w, outcome: { kind: "success", result: Buffer.from("ok") } }]);
    expect(await rowsOf(k.id)).toEqual([["job.submitted"], ["job.assigned", "job.started"], ["job.succeeded"]]);
  });

  it("writes a failure that comes before its RUNNING mark as CLAIMED, DELIVERED, FAILED, then the retry in a row of its own", async () => {
    const j = await claimedJob();
    const [verdict] = await finishAttempts(core.db.pool, [
      { jobId: j.id, attempt: j.attempt, workerId: j.w, outcome: { kind: "failure", message: "boom", retryable: true, reason: "FAILED" } },
    ]);
    expect(verdict).toMatchObject({ code: "accepted", status: "PENDING" });
    expect(await rowsOf(j.id)).toEqual([["job.submitted"], ["job.assigned", "job.started", "job.failed"], ["job.retry_scheduled"]]);
    const [, claimed] = await eventsOf(j.id);
    expect([claimed!.worker_id, claimed!.attempt, claimed!.created_at]).toEqual([j.w, j.attempt, j.claimedAt]);
  });

  it("relays a row one event at a time when the read stops between them, counts what is left, and deletes the row only once all are sent", async () => {
    const j = await claimedJob();
    await recordSuccesses(core.db.pool, [{ jobId: j.id, attempt: j.attempt, workerId: j.w, outcome: { kind: "success", result: Buffer.from("ok") } }]);
    const id = j.id;
    const [, claimed] = await eventsOf(id);
    // Every event before this job's last row, as sent: the relay's cursor at the last one.
    const [before] = (
      await core.db.pool.query<{ xid: string; id: string }>(
        "SELECT e.xid::text, e.id::text FROM job_events e WHERE e.row_id <> $1 AND e.xid <= (SELECT xid FROM job_event_rows WHERE id = $1) ORDER BY e.xid DESC, e.id DESC LIMIT 1",
        [claimed!.row_id],
      )
    ).rows;
    await advanceRelayCursor(core.db.pool, before!);

    // The relay reads below the cluster's transaction horizon: a transaction of another test file
    // open on the same Postgres holds it back for a moment.
    const expected = ["job.assigned", "job.started", "job.succeeded"];
    for (const [i, type] of expected.entries()) {
      let read: Awaited<ReturnType<typeof readEventsAfter>> = [];
      await eventually(`event ${i} of the row below the horizon`, async () => (read = await readEventsAfter(core.db.pool, await readRelayCursor(core.db.pool), 1)).length === 1);
      expect([read[0]!.jobId, read[0]!.eventType, read[0]!.id]).toEqual([id, type, String(BigInt(claimed!.id) + BigInt(i))]);
      await advanceRelayCursor(core.db.pool, read[0]!.position);
      expect((await measureOutboxLag(core.db.pool, new Date())).rows).toBe(expected.length - 1 - i);
      // Until its last event is sent, the row stays.
      await deleteJobsWithSentEvents(core.db.pool, "SELECT $1::uuid AS id", [id]);
      expect(await rowsOf(id), `after event ${i}`).toHaveLength(i === expected.length - 1 ? 0 : 1);
    }
    expect(await readEventsAfter(core.db.pool, await readRelayCursor(core.db.pool), 10)).toEqual([]);
  });
});
