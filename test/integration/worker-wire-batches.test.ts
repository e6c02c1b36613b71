import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { JobStatus, ResultAckCode, type ReportResultsResponse, type JobAssignment } from "../../libs/proto/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";

// Several assignments per StreamJobs message and several results per ReportResults message
// (worker_service.proto): asked for and announced per stream, so workers that do neither keep
// one per message, and each job or result inside a message is still decided on its own.

/** A job the worker still holds (its RUNNING mark may still be pending: DeliveryMarks). */
const held = expect.stringMatching(/^(ASSIGNED|RUNNING)$/);
const success = (a: JobAssignment) => ({ jobId: a.jobId, attempt: a.attempt, outcome: { $case: "success" as const, value: { result: Buffer.from("ok") } } });

describe("several jobs or results per worker stream message", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_HEARTBEAT_TIMEOUT_MS: "60000" });
    c = api.client();
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  const statuses = async (ids: string[]) =>
    Object.fromEntries((await db.pool.query<{ id: string; status: string }>("SELECT id::text, status FROM jobs WHERE id = ANY($1::uuid[])", [ids])).rows.map((r) => [r.id, r.status]));

  it("sends the jobs of one claim together to a stream that asked, and one per message to one that did not", async () => {
    await c.call(c.admin, "createQueue", { name: "wb-claim", paused: false, settings: {} });
    const { results: submitted } = await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 7 }, () => jobRequest("wb-claim")) });
    const batched = await (await RawWorker.register(c, ["wb-claim"], 5)).opened(10_000, 3);
    await batched.until(() => batched.assignments.length === 5);
    // One claim of 5 jobs, at most 3 per message.
    expect(batched.assignmentMessages).toEqual([3, 2]);
    expect(new Set(batched.assignments.map((a) => a.jobId)).size).toBe(5);

    const single = await (await RawWorker.register(c, ["wb-claim"], 5)).opened();
    await single.until(() => single.assignments.length === 2);
    expect(single.assignmentMessages).toEqual([]);
    expect(new Set([...batched.assignments, ...single.assignments].map((a) => a.jobId))).toEqual(new Set(submitted.map((r) => r.job!.id)));
    batched.close();
    single.close();
  });

  it("announces how many results a message may carry, and decides each alone: one malformed or stale is refused, the others are recorded", async () => {
    await c.call(c.admin, "createQueue", { name: "wb-results", paused: false, settings: {} });
    const w = await (await RawWorker.register(c, ["wb-results"], 4)).opened();
    await w.until(() => w.resultHeaders !== undefined);
    expect(w.resultHeaders!.get("jq-max-results-per-message")).toEqual(["1000"]);
    expect(Number(w.resultHeaders!.get("jq-max-message-bytes")[0])).toBeGreaterThan(0);

    await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 4 }, () => jobRequest("wb-results")) });
    await w.until(() => w.assignments.length === 4);
    const [a, b, nul, stale] = w.assignments as [JobAssignment, JobAssignment, JobAssignment, JobAssignment];
    const sequences = w.sendSeveral([
      success(a),
      { jobId: nul.jobId, attempt: nul.attempt, outcome: { $case: "failure", value: { message: "bad\0byte" } } },
      { ...success(stale), attempt: stale.attempt + 1 },
      { ...success(b), jobId: "not-a-uuid" },
      success(b),
    ]);
    await w.until(() => sequences.every((s) => w.acks.some((ack) => ack.sequence === s)));
    const ackOf = (s: string) => w.acks.find((ack) => ack.sequence === s)!;
    expect(ackOf(sequences[0]!)).toMatchObject({ code: ResultAckCode.ACCEPTED, jobStatus: JobStatus.DONE });
    expect(ackOf(sequences[1]!)).toMatchObject({ code: ResultAckCode.INVALID, message: expect.stringMatching(/^results\[1\]\.result\.failure\.message: contains a NUL/) });
    expect(ackOf(sequences[2]!)).toMatchObject({ code: ResultAckCode.STALE });
    expect(ackOf(sequences[3]!)).toMatchObject({ code: ResultAckCode.INVALID, message: expect.stringMatching(/job_id/) });
    expect(ackOf(sequences[4]!)).toMatchObject({ code: ResultAckCode.ACCEPTED, jobStatus: JobStatus.DONE });
    // The five acks came back as one message.
    expect(w.ackMessages).toEqual([5]);
    expect(await statuses([a.jobId, b.jobId, nul.jobId, stale.jobId])).toEqual({ [a.jobId]: "DONE", [b.jobId]: "DONE", [nul.jobId]: held, [stale.jobId]: held });

    // The stream goes on: the refused ones' real results are accepted.
    const again = w.sendSeveral([success(nul), success(stale)]);
    await w.until(() => again.every((s) => w.acks.some((ack) => ack.sequence === s)));
    expect(again.map((s) => ackOf(s).code)).toEqual([ResultAckCode.ACCEPTED, ResultAckCode.ACCEPTED]);
    expect(await statuses([nul.jobId, stale.jobId])).toEqual({ [nul.jobId]: "DONE", [stale.jobId]: "DONE" });
    w.close();
  });

  it("refuses every result of a message whose shared part is malformed, each by its sequence", async () => {
    await c.call(c.admin, "createQueue", { name: "wb-shared", paused: false, settings: {} });
    const w = await (await RawWorker.register(c, ["wb-shared"], 2)).opened();
    await c.call(c.jobs, "submitJobs", { jobs: [jobRequest("wb-shared"), jobRequest("wb-shared")] });
    await w.until(() => w.assignments.length === 2);
    const call = c.workers.reportResults(c.metadata(w.headers()));
    const acks: ReportResultsResponse[] = [];
    call.on("data", (m: ReportResultsResponse) => acks.push(m));
    call.on("error", () => {});
    call.write({ sequence: "0", workerId: `${w.id}\0`, result: undefined, results: w.assignments.map((a, i) => ({ sequence: String(i + 1), result: success(a) })) });
    await w.until(() => acks.length > 0);
    expect(acks[0]!.acks.map((a) => [a.sequence, a.code])).toEqual([
      ["1", ResultAckCode.INVALID],
      ["2", ResultAckCode.INVALID],
    ]);
    expect(acks[0]!.acks[0]!.message).toMatch(/^worker_id: contains a NUL/);
    call.end();
    expect(Object.values(await statuses(w.assignments.map((a) => a.jobId)))).toEqual([held, held]);
    w.close();
  });

  it("ends the stream of a message carrying more results than announced, recording none", async () => {
    const w = await (await RawWorker.register(c, ["wb-shared"], 1)).opened();
    const errors: grpc.ServiceError[] = [];
    const results = c.workers.reportResults(c.metadata(w.headers()));
    results.on("error", (e: grpc.ServiceError) => errors.push(e));
    results.on("data", () => {});
    const items = Array.from({ length: 1001 }, (_, i) => ({
      sequence: String(i + 1),
      result: { jobId: "00000000-0000-7000-8000-000000000000", attempt: 1, outcome: { $case: "success" as const, value: { result: Buffer.alloc(0) } } },
    }));
    results.write({ sequence: "0", workerId: w.id, result: undefined, results: items });
    await w.until(() => errors.length > 0);
    expect(grpc.status[errors[0]!.code]).toBe("RESOURCE_EXHAUSTED");
    expect(errors[0]!.details).toMatch(/^results: /);
    w.close();
  });
});
