import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { JobStatus, TransitionReason } from "../../libs/proto/index.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { jobRequest } from "../support/job-requests.js";
import { UNRELAYED } from "../support/event-log.js";

const job = jobRequest;
const seconds = (n: number) => ({ seconds: String(n), nanos: 0 });

describe("AdminService: queues and dead letters", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url);
    c = api.client();
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  it("creates a queue with defaults filled in, and refuses a duplicate or a bad name", async () => {
    const { queue } = await c.call(c.admin, "createQueue", { name: "mail", paused: false });
    expect(queue).toMatchObject({
      name: "mail",
      paused: false,
      settings: { maxRetries: 3, backoffBase: seconds(1), backoffMax: seconds(300), retention: seconds(604800), ttl: undefined, timeout: undefined, maxConcurrency: undefined },
    });
    await expectCode(c.call(c.admin, "createQueue", { name: "mail", paused: false }), grpc.status.ALREADY_EXISTS, /queue "mail" already exists/);
    await expectCode(c.call(c.admin, "createQueue", { name: "bad name", paused: false }), grpc.status.INVALID_ARGUMENT, /^name: /);
    await expectCode(
      c.call(c.admin, "createQueue", { name: "q2", paused: false, settings: { backoffBase: seconds(10), backoffMax: seconds(5) } }),
      grpc.status.INVALID_ARGUMENT,
      /^settings.backoff_max: must be at least backoff_base/,
    );
    await expectCode(c.call(c.admin, "createQueue", { name: "q2", paused: false, settings: { maxConcurrency: 0 } }), grpc.status.INVALID_ARGUMENT, /max_concurrency/);
  });

  it("updates only the settings the mask names, and can clear a TTL", async () => {
    await c.call(c.admin, "createQueue", { name: "upd", paused: false, settings: { ttl: seconds(60), maxRetries: 7 } });
    const { queue } = await c.call(c.admin, "updateQueue", { name: "upd", settings: { timeout: seconds(30) }, updateMask: ["timeout", "ttl"] });
    expect(queue!.settings).toMatchObject({ timeout: seconds(30), ttl: undefined, maxRetries: 7 });
    await expectCode(c.call(c.admin, "updateQueue", { name: "upd", settings: {}, updateMask: [] }), grpc.status.INVALID_ARGUMENT, /^update_mask: /);
    await expectCode(c.call(c.admin, "updateQueue", { name: "upd", settings: {}, updateMask: ["colour"] }), grpc.status.INVALID_ARGUMENT, /^update_mask\[0\]: unknown setting/);
    // Names every JavaScript object inherits (the request property test once sent `toString`).
    for (const inherited of ["toString", "__proto__", "constructor", "settings.hasOwnProperty"]) {
      await expectCode(c.call(c.admin, "updateQueue", { name: "upd", settings: {}, updateMask: ["ttl", inherited] }), grpc.status.INVALID_ARGUMENT, /^update_mask\[1\]: unknown setting/);
    }
    await expectCode(c.call(c.admin, "updateQueue", { name: "ghost", settings: {}, updateMask: ["ttl"] }), grpc.status.NOT_FOUND);
  });

  it("reports depth per state, scheduled jobs and the oldest pending age", async () => {
    await c.call(c.admin, "createQueue", { name: "stats", paused: false });
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [job("stats"), job("stats"), job("stats")] });
    await c.call(c.jobs, "submitJob", { ...job("stats"), start: { $case: "delay", value: seconds(3600) } });
    await c.call(c.jobs, "cancelJob", { jobId: results[0]!.job!.id, message: "" });
    await db.pool.query("UPDATE jobs SET created_at = now() - interval '90 seconds' WHERE queue = 'stats' AND not_before IS NULL AND status = 'PENDING'");
    const { queue } = await c.call(c.admin, "getQueue", { name: "stats" });
    expect(queue!.stats!.depth).toEqual({ pending: "3", assigned: "0", running: "0", done: "0", failed: "0", deadLettered: "1" });
    expect(queue!.stats!.scheduled).toBe("1");
    expect(Number(queue!.stats!.oldestPendingAge!.seconds)).toBeGreaterThanOrEqual(89);
    await expectCode(c.call(c.admin, "getQueue", { name: "ghost" }), grpc.status.NOT_FOUND);
  });

  it("lists queues by name across pages", async () => {
    for (const n of ["l-a", "l-b", "l-c"]) await c.call(c.admin, "createQueue", { name: n, paused: false });
    const names: string[] = [];
    let token = "";
    do {
      const page = await c.call(c.admin, "listQueues", { pageSize: 2, pageToken: token });
      names.push(...page.queues.map((q) => q.name));
      expect(page.queues.every((q) => q.stats !== undefined)).toBe(true);
      token = page.nextPageToken;
    } while (token);
    expect(names).toEqual([...names].sort());
    // The pages together are every queue, each once.
    const all = (await db.pool.query<{ name: string }>("SELECT name FROM queues")).rows.map((r) => r.name).sort();
    expect(names).toEqual(all);
    expect(all).toEqual(expect.arrayContaining(["l-a", "l-b", "l-c"]));
  });

  it("pauses and resumes idempotently", async () => {
    await c.call(c.admin, "createQueue", { name: "p", paused: false });
    expect((await c.call(c.admin, "pauseQueue", { name: "p" })).queue!.paused).toBe(true);
    expect((await c.call(c.admin, "pauseQueue", { name: "p" })).queue!.paused).toBe(true);
    // A paused queue still accepts jobs.
    await c.call(c.jobs, "submitJob", job("p"));
    expect((await c.call(c.admin, "resumeQueue", { name: "p" })).queue!.paused).toBe(false);
    await expectCode(c.call(c.admin, "pauseQueue", { name: "ghost" }), grpc.status.NOT_FOUND);
  });

  it("refuses to delete a queue holding unfinished jobs unless forced; force cancels them first", async () => {
    await c.call(c.admin, "createQueue", { name: "del", paused: false });
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: [job("del"), job("del")] });
    await expectCode(c.call(c.admin, "deleteQueue", { name: "del", force: false }), grpc.status.FAILED_PRECONDITION, /still holds jobs \(2 PENDING\)/);
    const res = await c.call(c.admin, "deleteQueue", { name: "del", force: true });
    expect(res.deletedJobs).toBe("2");
    await expectCode(c.call(c.admin, "getQueue", { name: "del" }), grpc.status.NOT_FOUND);
    // Consumers still learn of the cancellations: their events wait for the relay.
    const { rows } = await db.pool.query(
      `SELECT e.event_type FROM job_events e WHERE e.job_id = ANY($1::uuid[]) AND ${UNRELAYED} ORDER BY e.id`,
      [results.map((r) => r.job!.id)],
    );
    expect(rows.map((r) => r.event_type)).toEqual(["job.submitted", "job.submitted", "job.cancelled", "job.cancelled"]);
    await c.call(c.admin, "createQueue", { name: "del2", paused: false });
    expect((await c.call(c.admin, "deleteQueue", { name: "del2", force: false })).deletedJobs).toBe("0");
    await expectCode(c.call(c.jobs, "submitJob", job("del")), grpc.status.NOT_FOUND);
  });

  it("leaves no job in a deleted queue when a submit and a DeleteQueue meet, whichever commits first", async () => {
    // Jobs have no foreign key to queues (migration 0009): the submit locks the queue row itself.
    const waitingOnLock = () =>
      expect
        .poll(async () => (await db.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")).rows[0].n)
        .toBe(1);
    const jobsIn = async (queue: string) => (await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE queue = $1", [queue])).rows[0].n;

    // The delete first: a submit arriving while it is under way waits, then finds no queue.
    await c.call(c.admin, "createQueue", { name: "race1", paused: false });
    const deleting = await db.pool.connect();
    try {
      await deleting.query("BEGIN");
      await deleting.query("SELECT 1 FROM queues WHERE name = 'race1' FOR UPDATE");
      await deleting.query("DELETE FROM queues WHERE name = 'race1'");
      // Its refusal can reach this process before the COMMIT's reply: expect it from the start,
      // or it is an unhandled rejection for that moment (it failed a CI run so).
      const refused = expectCode(c.call(c.jobs, "submitJob", job("race1")), grpc.status.NOT_FOUND, /queue "race1" not found/);
      await waitingOnLock();
      await deleting.query("COMMIT");
      await refused;
    } finally {
      deleting.release();
    }
    expect(await jobsIn("race1")).toBe(0);

    // The submit first: the delete waits for it, then deletes the job it committed.
    await c.call(c.admin, "createQueue", { name: "race2", paused: false });
    const submitting = await db.pool.connect();
    try {
      await submitting.query("BEGIN");
      await submitJobs(submitting, [
        { queue: "race2", payload: Buffer.from("x"), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null },
      ]);
      const deleted = c.call(c.admin, "deleteQueue", { name: "race2", force: true });
      await waitingOnLock();
      await submitting.query("COMMIT");
      expect((await deleted).deletedJobs).toBe("1");
    } finally {
      submitting.release();
    }
    expect(await jobsIn("race2")).toBe(0);
  });

  it("lists, requeues (by reason, with a limit) and purges dead letters", async () => {
    await c.call(c.admin, "createQueue", { name: "dlq", paused: false });
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 6 }, () => job("dlq")) });
    const ids = results.map((r) => r.job!.id);
    for (const id of ids) await c.call(c.jobs, "cancelJob", { jobId: id, message: "" });
    await db.pool.query("UPDATE jobs SET status_reason = 'EXPIRED' WHERE id = ANY($1::uuid[])", [ids.slice(4)]);

    const listed = await c.call(c.admin, "listDeadLetters", { selector: { queue: "dlq", reasons: [TransitionReason.CANCELLED], jobIds: [] }, pageSize: 3, pageToken: "", view: 0 });
    expect(listed.jobs.map((j) => j.id)).toEqual(ids.slice(0, 3));
    const rest = await c.call(c.admin, "listDeadLetters", { selector: { queue: "dlq", reasons: [TransitionReason.CANCELLED], jobIds: [] }, pageSize: 3, pageToken: listed.nextPageToken, view: 0 });
    expect(rest.jobs.map((j) => j.id)).toEqual(ids.slice(3, 4));
    expect(rest.nextPageToken).toBe("");

    const requeued = await c.call(c.admin, "requeueDeadLetters", { selector: { queue: "dlq", reasons: [TransitionReason.CANCELLED], jobIds: [] }, limit: 2 });
    expect(requeued.requeuedCount).toBe("2");
    const states = await db.pool.query("SELECT id, status FROM jobs WHERE queue = 'dlq' ORDER BY id");
    expect(states.rows.map((r) => r.status)).toEqual(["PENDING", "PENDING", "DEAD_LETTERED", "DEAD_LETTERED", "DEAD_LETTERED", "DEAD_LETTERED"]);

    const purged = await c.call(c.admin, "purgeDeadLetters", { selector: { queue: "dlq", reasons: [TransitionReason.EXPIRED], jobIds: [] } });
    expect(purged.purgedCount).toBe("2");
    const left = await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE queue = 'dlq' AND status = 'DEAD_LETTERED'");
    expect(left.rows[0].n).toBe(2);

    await expectCode(c.call(c.admin, "requeueDeadLetters", { selector: { queue: "", reasons: [], jobIds: [] }, limit: 0 }), grpc.status.INVALID_ARGUMENT, /^selector.queue: is required/);
    await expectCode(c.call(c.admin, "purgeDeadLetters", { selector: { queue: "ghost", reasons: [], jobIds: [] } }), grpc.status.NOT_FOUND);
    await expectCode(c.call(c.admin, "listDeadLetters", { selector: { queue: "dlq", reasons: [], jobIds: ["x"] }, pageSize: 0, pageToken: "", view: 0 }), grpc.status.INVALID_ARGUMENT, /^selector.job_ids\[0\]/);
    expect((await c.call(c.jobs, "getJobStatus", { jobId: ids[0]!, view: 0 })).job!.status).toBe(JobStatus.PENDING);
  });
});
