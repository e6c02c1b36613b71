import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { JobStatus, JobView, TransitionReason, type SubmitJobRequest } from "../../libs/proto/index.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { jobRequest } from "../support/job-requests.js";
import { UNRELAYED } from "../support/event-log.js";

const job = (queue: string, over: Partial<SubmitJobRequest> = {}) => jobRequest(queue, { payload: Buffer.from("hello"), ...over });

describe("JobService over a real gRPC connection", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_MAX_PAYLOAD_BYTES: "1024", JQ_MAX_BATCH_SIZE: "50" });
    c = api.client();
    for (const name of ["emails", "batch", "pages", "ops"]) await c.call(c.admin, "createQueue", { name, paused: false });
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  describe("SubmitJob", () => {
    it("creates a PENDING job with its first event, waiting for the relay, in one go", async () => {
      const res = await c.call(c.jobs, "submitJob", job("emails", { priority: 5, metadata: { tenant: "a" }, maxRetries: 2 }));
      expect(res.deduplicated).toBe(false);
      expect(res.job).toMatchObject({ queue: "emails", status: JobStatus.PENDING, priority: 5, maxRetries: 2, metadata: { tenant: "a" } });
      expect(res.job!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      const { rows } = await db.pool.query(
        `SELECT e.event_type, e.to_status, e.reason, ${UNRELAYED} AS in_outbox FROM job_events e WHERE e.job_id = $1`,
        [res.job!.id],
      );
      expect(rows).toEqual([{ event_type: "job.submitted", to_status: "PENDING", reason: "SUBMITTED", in_outbox: true }]);
    });

    it("answers with the job exactly as GetJobStatus reads it back from Postgres", async () => {
      // The submit does not read payload and metadata back from its insert: what it answers with
      // must be what was stored, field for field.
      const requests = [
        job("emails", { payload: Buffer.from([0, 255, 10, 13]), metadata: { tenant: "ä", "z-key": "", a: "line\nbreak" }, priority: -7, maxRetries: 0 }),
        job("emails", { timeout: { seconds: "90", nanos: 0 }, idempotencyKey: "same-as-stored", start: { $case: "delay", value: { seconds: "30", nanos: 0 } } }),
      ];
      const single = await c.call(c.jobs, "submitJob", requests[0]!);
      const batch = await c.call(c.jobs, "submitJobs", { jobs: requests });
      for (const answered of [single.job!, ...batch.results.map((r) => r.job!)]) {
        const read = await c.call(c.jobs, "getJobStatus", { jobId: answered.id, view: JobView.FULL });
        expect(answered).toEqual(read.job);
      }
    });

    it("turns delay and run_at into not_before, and a timeout into whole seconds", async () => {
      const delayed = await c.call(c.jobs, "submitJob", job("emails", { start: { $case: "delay", value: { seconds: "60", nanos: 0 } }, timeout: { seconds: "30", nanos: 0 } }));
      const notBefore = delayed.job!.notBefore!.getTime();
      expect(notBefore - Date.now()).toBeGreaterThan(50_000);
      expect(delayed.job!.timeout).toEqual({ seconds: "30", nanos: 0 });
      const at = new Date(Date.now() + 3_600_000);
      const scheduled = await c.call(c.jobs, "submitJob", job("emails", { start: { $case: "runAt", value: at } }));
      expect(scheduled.job!.notBefore!.getTime()).toBe(at.getTime());
    });

    it.each([
      ["queue", job("no such queue!"), grpc.status.INVALID_ARGUMENT, /^queue: must match/],
      ["missing queue", job("ghost"), grpc.status.NOT_FOUND, /queue "ghost" not found/],
      ["payload", job("emails", { payload: Buffer.alloc(1025) }), grpc.status.RESOURCE_EXHAUSTED, /^payload: 1025 bytes exceeds the limit of 1024 bytes/],
      ["priority", job("emails", { priority: 40_000 }), grpc.status.INVALID_ARGUMENT, /^priority: /],
      ["delay", job("emails", { start: { $case: "delay", value: { seconds: "-5", nanos: 0 } } }), grpc.status.INVALID_ARGUMENT, /^delay: must not be negative/],
      ["timeout", job("emails", { timeout: { seconds: "1", nanos: 500 } }), grpc.status.INVALID_ARGUMENT, /^timeout: must be a whole number of seconds/],
      ["metadata key", job("emails", { metadata: { "": "x" } }), grpc.status.INVALID_ARGUMENT, /^metadata: keys must not be empty/],
      ["idempotency key", job("emails", { idempotencyKey: "k".repeat(300) }), grpc.status.RESOURCE_EXHAUSTED, /^idempotency_key: /],
    ] as const)("refuses a bad %s with %s naming the field", async (_what, req, code, details) => {
      await expectCode(c.call(c.jobs, "submitJob", req), code, details);
    });

    it("creates exactly one job for 50 concurrent identical idempotent submits", async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () => c.call(c.jobs, "submitJob", job("emails", { idempotencyKey: "order-42", payload: Buffer.from("first") }))),
      );
      const ids = new Set(results.map((r) => r.job!.id));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE idempotency_key = 'order-42'");
      expect(rows[0].n).toBe(1);
      const again = await c.call(c.jobs, "submitJob", job("emails", { idempotencyKey: "order-42", payload: Buffer.from("second") }));
      expect(again).toMatchObject({ deduplicated: true, job: { id: [...ids][0] } });
    });

    it("refuses a request that is not a valid protobuf message with INVALID_ARGUMENT", async () => {
      const Raw = grpc.makeGenericClientConstructor(
        {
          submitJob: {
            path: "/jq.v1.JobService/SubmitJob",
            requestStream: false,
            responseStream: false,
            requestSerialize: (b: Buffer) => b,
            requestDeserialize: (b: Buffer) => b,
            responseSerialize: (b: Buffer) => b,
            responseDeserialize: (b: Buffer) => b,
          },
        },
        "Raw",
      );
      const raw = new Raw(api.address, grpc.credentials.createInsecure()) as unknown as {
        submitJob(b: Buffer, cb: (e: grpc.ServiceError | null) => void): void;
        close(): void;
      };
      try {
        await expectCode(
          new Promise((resolve, reject) => raw.submitJob(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), (e) => (e ? reject(e) : resolve(null)))),
          grpc.status.INVALID_ARGUMENT,
          /^request: is not a valid jq.v1.JobService message/,
        );
      } finally {
        raw.close();
      }
    });
  });

  describe("SubmitJobs", () => {
    it("creates a batch in request order", async () => {
      const res = await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 20 }, (_, i) => job("batch", { priority: i })) });
      expect(res.results.map((r) => r.job!.priority)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it("writes nothing when one job of the batch is invalid, and names it", async () => {
      const before = (await db.pool.query("SELECT count(*)::int AS n FROM jobs")).rows[0].n;
      const jobs = [job("batch"), job("batch"), job("batch", { payload: Buffer.alloc(2000) }), job("batch")];
      await expectCode(c.call(c.jobs, "submitJobs", { jobs }), grpc.status.RESOURCE_EXHAUSTED, /^jobs\[2\]\.payload: /);
      await expectCode(c.call(c.jobs, "submitJobs", { jobs: [job("batch"), job("ghost")] }), grpc.status.NOT_FOUND, /queue "ghost"/);
      expect((await db.pool.query("SELECT count(*)::int AS n FROM jobs")).rows[0].n).toBe(before);
      expect((await db.pool.query("SELECT count(*)::int AS n FROM job_events")).rows[0].n).toBe(before);
    });

    it("bounds the batch size and refuses an empty batch", async () => {
      await expectCode(c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 51 }, () => job("batch")) }), grpc.status.RESOURCE_EXHAUSTED, /^jobs: 51 jobs exceeds the limit of 50/);
      await expectCode(c.call(c.jobs, "submitJobs", { jobs: [] }), grpc.status.INVALID_ARGUMENT, /^jobs: /);
    });

    it("deduplicates repeats inside one batch and against earlier jobs", async () => {
      const res = await c.call(c.jobs, "submitJobs", {
        jobs: [job("batch", { idempotencyKey: "b1" }), job("batch", { idempotencyKey: "b1" }), job("batch", { idempotencyKey: "order-42" })],
      });
      expect(res.results.map((r) => r.deduplicated)).toEqual([false, true, false]);
      expect(res.results[0]!.job!.id).toBe(res.results[1]!.job!.id);
    });
  });

  describe("reads, cancel and retry", () => {
    it("GetJobStatus returns the payload by default and honours the basic view; bad ids are precise", async () => {
      const { job: created } = await c.call(c.jobs, "submitJob", job("ops", { payload: Buffer.from("data") }));
      const full = await c.call(c.jobs, "getJobStatus", { jobId: created!.id, view: JobView.UNSPECIFIED });
      expect(full.job!.payload.toString()).toBe("data");
      const basic = await c.call(c.jobs, "getJobStatus", { jobId: created!.id, view: JobView.BASIC });
      expect(basic.job!.payload.length).toBe(0);
      await expectCode(c.call(c.jobs, "getJobStatus", { jobId: "nope", view: 0 }), grpc.status.INVALID_ARGUMENT, /^job_id: must be a UUID/);
      await expectCode(c.call(c.jobs, "getJobStatus", { jobId: "0190f5b2-7c1a-7d3e-8f00-123456789abc", view: 0 }), grpc.status.NOT_FOUND);
      await expectCode(c.call(c.jobs, "getJobStatus", { jobId: created!.id, view: 7 as JobView }), grpc.status.INVALID_ARGUMENT, /^view: /);
    });

    it("CancelJob dead-letters PENDING, ASSIGNED and RUNNING jobs and refuses finished ones", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await c.call(c.jobs, "submitJob", job("ops"))).job!.id);
      await db.pool.query("UPDATE jobs SET status = 'ASSIGNED', attempt = 1 WHERE id = $1", [ids[1]]);
      await db.pool.query("UPDATE jobs SET status = 'RUNNING', attempt = 1 WHERE id = $1", [ids[2]]);
      await db.pool.query("UPDATE jobs SET status = 'DONE', attempt = 1 WHERE id = $1", [ids[3]]);
      for (const [i, from] of [[0, "PENDING"], [1, "ASSIGNED"], [2, "RUNNING"]] as const) {
        const res = await c.call(c.jobs, "cancelJob", { jobId: ids[i]!, message: "not needed" });
        expect(res.job).toMatchObject({ status: JobStatus.DEAD_LETTERED, statusReason: TransitionReason.CANCELLED, errorMessage: "not needed" });
        const { rows } = await db.pool.query("SELECT from_status, event_type FROM job_events WHERE job_id = $1 ORDER BY id DESC LIMIT 1", [ids[i]]);
        expect(rows[0]).toEqual({ from_status: from, event_type: "job.cancelled" });
      }
      await expectCode(c.call(c.jobs, "cancelJob", { jobId: ids[3]!, message: "" }), grpc.status.FAILED_PRECONDITION, /is DONE/);
      await expectCode(c.call(c.jobs, "cancelJob", { jobId: ids[0]!, message: "" }), grpc.status.FAILED_PRECONDITION, /is DEAD_LETTERED/);
    });

    it("RetryJob brings a dead letter back to PENDING with retry_count reset, and refuses others", async () => {
      const { job: j } = await c.call(c.jobs, "submitJob", job("ops"));
      await expectCode(c.call(c.jobs, "retryJob", { jobId: j!.id }), grpc.status.FAILED_PRECONDITION, /is PENDING/);
      await db.pool.query("UPDATE jobs SET retry_count = 3 WHERE id = $1", [j!.id]);
      await c.call(c.jobs, "cancelJob", { jobId: j!.id, message: "" });
      const res = await c.call(c.jobs, "retryJob", { jobId: j!.id });
      expect(res.job).toMatchObject({ status: JobStatus.PENDING, statusReason: TransitionReason.RETRIED_MANUALLY, retryCount: 0 });
      const logs = await c.call(c.jobs, "getJobLogs", { jobId: j!.id, pageSize: 0, pageToken: "" });
      expect(logs.events.map((e) => [e.fromStatus, e.toStatus, e.reason])).toEqual([
        [JobStatus.UNSPECIFIED, JobStatus.PENDING, TransitionReason.SUBMITTED],
        [JobStatus.PENDING, JobStatus.DEAD_LETTERED, TransitionReason.CANCELLED],
        [JobStatus.DEAD_LETTERED, JobStatus.PENDING, TransitionReason.RETRIED_MANUALLY],
      ]);
      await expectCode(c.call(c.jobs, "retryJob", { jobId: "0190f5b2-7c1a-7d3e-8f00-123456789abc" }), grpc.status.NOT_FOUND);
    });

    it("GetJobLogs pages through events in order", async () => {
      const { job: j } = await c.call(c.jobs, "submitJob", job("ops"));
      for (let i = 0; i < 3; i++) {
        await c.call(c.jobs, "cancelJob", { jobId: j!.id, message: "" });
        await c.call(c.jobs, "retryJob", { jobId: j!.id });
      }
      const seen: string[] = [];
      let token = "";
      do {
        const page = await c.call(c.jobs, "getJobLogs", { jobId: j!.id, pageSize: 2, pageToken: token });
        seen.push(...page.events.map((e) => e.eventId));
        token = page.nextPageToken;
      } while (token);
      expect(seen).toHaveLength(7);
      expect([...seen].sort((a, b) => Number(a) - Number(b))).toEqual(seen);
      await expectCode(c.call(c.jobs, "getJobLogs", { jobId: "0190f5b2-7c1a-7d3e-8f00-123456789abc", pageSize: 0, pageToken: "" }), grpc.status.NOT_FOUND);
    });
  });

  describe("/metrics", () => {
    it("counts requests by service, method and code, times them, and counts jobs submitted by queue", async () => {
      await c.call(c.jobs, "submitJob", job("emails"));
      await expectCode(c.call(c.jobs, "submitJob", job("ghost")), grpc.status.NOT_FOUND);
      const text = await (await fetch(`http://127.0.0.1:${await api.app.ready()}/metrics`)).text();
      const value = (line: RegExp) => Number(text.split("\n").find((l) => line.test(l))?.split(" ").pop());
      expect(value(/^jq_grpc_requests_total\{service="jq.v1.JobService",method="SubmitJob",code="OK",app="api"\}/)).toBeGreaterThanOrEqual(1);
      expect(value(/^jq_grpc_requests_total\{service="jq.v1.JobService",method="SubmitJob",code="NOT_FOUND",app="api"\}/)).toBeGreaterThanOrEqual(1);
      expect(value(/^jq_grpc_request_duration_seconds_count\{app="api",service="jq.v1.JobService",method="SubmitJob"\}/)).toBeGreaterThanOrEqual(2);
      expect(value(/^jq_jobs_submitted_total\{queue="emails",app="api"\}/)).toBeGreaterThanOrEqual(1);
    });
  });

  describe("ListJobs", () => {
    it("returns every row exactly once while rows are being inserted", async () => {
      await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 45 }, () => job("pages")) });
      const existing = new Set((await db.pool.query<{ id: string }>("SELECT id FROM jobs WHERE queue = 'pages'")).rows.map((r) => r.id));
      const seen: string[] = [];
      let token = "";
      let inserting = 0;
      do {
        const page = await c.call(c.jobs, "listJobs", { queue: "pages", statuses: [], pageSize: 7, pageToken: token, view: 0 });
        seen.push(...page.jobs.map((j) => j.id));
        token = page.nextPageToken;
        // New jobs arrive between pages.
        await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 3 }, () => job("pages")) });
        inserting += 3;
      } while (token);
      expect(inserting).toBeGreaterThan(0);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of existing) expect(seen).toContain(id);
    });

    it("filters by status and refuses a token used with other filters, a forged token and bad sizes", async () => {
      const page = await c.call(c.jobs, "listJobs", { queue: "ops", statuses: [JobStatus.DEAD_LETTERED], pageSize: 1, pageToken: "", view: 0 });
      expect(page.jobs.every((j) => j.status === JobStatus.DEAD_LETTERED)).toBe(true);
      expect(page.nextPageToken).not.toBe("");
      await expectCode(
        c.call(c.jobs, "listJobs", { queue: "ops", statuses: [JobStatus.PENDING], pageSize: 1, pageToken: page.nextPageToken, view: 0 }),
        grpc.status.INVALID_ARGUMENT,
        /^page_token: belongs to a request with different filters/,
      );
      const forged = page.nextPageToken.replace(/^./, (ch) => (ch === "e" ? "f" : "e"));
      await expectCode(c.call(c.jobs, "listJobs", { queue: "ops", statuses: [JobStatus.DEAD_LETTERED], pageSize: 1, pageToken: forged, view: 0 }), grpc.status.INVALID_ARGUMENT, /^page_token: /);
      await expectCode(c.call(c.jobs, "listJobs", { queue: "", statuses: [], pageSize: -1, pageToken: "", view: 0 }), grpc.status.INVALID_ARGUMENT, /^page_size: /);
      await expectCode(c.call(c.jobs, "listJobs", { queue: "", statuses: [], pageSize: 5000, pageToken: "", view: 0 }), grpc.status.RESOURCE_EXHAUSTED, /^page_size: /);
      await expectCode(c.call(c.jobs, "listJobs", { queue: "", statuses: [42 as JobStatus], pageSize: 0, pageToken: "", view: 0 }), grpc.status.INVALID_ARGUMENT, /^statuses\[0\]: is not a job status/);
    });
  });
});
