import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { JobStatus, TransitionReason, type WatchJobResponse } from "../../libs/proto/index.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";

/** Collects a WatchJob stream's messages until it ends or fails. */
function watch(c: JqClient, jobId: string, afterEventId = "0") {
  const messages: WatchJobResponse[] = [];
  const call = c.jobs.watchJob({ jobId, afterEventId }, c.metadata());
  const ended = new Promise<grpc.ServiceError | null>((resolve) => {
    call.on("data", (m: WatchJobResponse) => messages.push(m));
    call.on("error", (e: grpc.ServiceError) => resolve(e));
    call.on("end", () => resolve(null));
  });
  return { messages, ended, cancel: () => call.cancel() };
}

describe("WatchJob across API replicas", () => {
  let db: TestDatabase;
  let a: RunningApi;
  let b: RunningApi;
  let ca: JqClient;
  let cb: JqClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startApi(db.url);
    b = await startApi(db.url);
    ca = a.client();
    cb = b.client();
    await ca.call(ca.admin, "createQueue", { name: "w", paused: false });
  });
  afterAll(async () => {
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    await db.drop();
  });

  const submit = async () =>
    (await ca.call(ca.jobs, "submitJob", { queue: "w", payload: Buffer.from("x"), metadata: {}, priority: 0, idempotencyKey: "" })).job!.id;

  it("streams events made on another replica and ends with the final job", async () => {
    const id = await submit();
    const w = watch(ca, id);
    await eventually("the watch's first event", () => w.messages.length >= 1);
    // The change happens through replica B; the watcher is on replica A.
    await cb.call(cb.jobs, "cancelJob", { jobId: id, message: "changed on B" });
    expect(await w.ended).toBeNull();
    expect(w.messages.map((m) => [m.event?.toStatus, m.event?.reason])).toEqual([
      [JobStatus.PENDING, TransitionReason.SUBMITTED],
      [JobStatus.DEAD_LETTERED, TransitionReason.CANCELLED],
    ]);
    expect(w.messages.at(-1)!.job).toMatchObject({ id, status: JobStatus.DEAD_LETTERED, errorMessage: "changed on B" });
    expect(w.messages[0]!.job).toBeUndefined();
  });

  it("resumes after a given event id, and ends at once for a settled job", async () => {
    const id = await submit();
    await cb.call(cb.jobs, "cancelJob", { jobId: id, message: "" });
    const settled = watch(ca, id, "999999999");
    expect(await settled.ended).toBeNull();
    expect(settled.messages).toHaveLength(1);
    expect(settled.messages[0]).toMatchObject({ event: undefined, job: { id, status: JobStatus.DEAD_LETTERED } });

    const logs = await ca.call(ca.jobs, "getJobLogs", { jobId: id, pageSize: 0, pageToken: "" });
    const w = watch(cb, id, logs.events[0]!.eventId);
    expect(await w.ended).toBeNull();
    expect(w.messages.map((m) => m.event!.eventId)).toEqual([logs.events[1]!.eventId]);
  });

  it("keeps a watch open through a retry until the job is final again", async () => {
    const id = await submit();
    await ca.call(ca.jobs, "cancelJob", { jobId: id, message: "" });
    const logs = await ca.call(ca.jobs, "getJobLogs", { jobId: id, pageSize: 0, pageToken: "" });
    await cb.call(cb.jobs, "retryJob", { jobId: id });
    const w = watch(ca, id, logs.events[0]!.eventId);
    await eventually("the cancellation and the retry", () => w.messages.length >= 2);
    expect(w.messages.length).toBe(2);
    expect(w.messages.every((m) => m.job === undefined)).toBe(true);
    await cb.call(cb.jobs, "cancelJob", { jobId: id, message: "again" });
    expect(await w.ended).toBeNull();
    expect(w.messages.at(-1)!.job!.errorMessage).toBe("again");
  });

  it("stops streaming when the client cancels, and refuses bad requests precisely", async () => {
    const id = await submit();
    const w = watch(cb, id);
    await eventually("the watch's first event", () => w.messages.length >= 1);
    w.cancel();
    expect((await w.ended)?.code).toBe(grpc.status.CANCELLED);
    const missing = watch(ca, "0190f5b2-7c1a-7d3e-8f00-123456789abc");
    expect((await missing.ended)?.code).toBe(grpc.status.NOT_FOUND);
    const bad = watch(ca, "zzz");
    expect((await bad.ended)?.code).toBe(grpc.status.INVALID_ARGUMENT);
    for (const beyondBigint of ["9223372036854775808", "18446744073709551615"]) {
      await expectCode(Promise.reject(await watch(ca, id, beyondBigint).ended), grpc.status.INVALID_ARGUMENT, /^after_event_id/);
    }
  });
});

describe("SIGTERM with a WatchJob open", () => {
  it("ends the stream with UNAVAILABLE so the client can watch elsewhere, and exits 0", async () => {
    const db = await createTestDatabase();
    const api = await startApi(db.url);
    try {
      const c = api.client();
      await c.call(c.admin, "createQueue", { name: "w", paused: false });
      const { job } = await c.call(c.jobs, "submitJob", { queue: "w", payload: Buffer.from("x"), metadata: {}, priority: 0, idempotencyKey: "" });
      const w = watch(c, job!.id);
      await eventually("the watch's first event", () => w.messages.length >= 1);
      expect(w.messages).toHaveLength(1);
      api.app.child.kill("SIGTERM");
      const err = await w.ended;
      expect(err?.code).toBe(grpc.status.UNAVAILABLE);
      expect(await api.app.exited()).toBe(0);
    } finally {
      await api.stop();
      await db.drop();
    }
  });
});
