import { hostname } from "node:os";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ResultAckCode } from "../proto/index.js";
import { JobAbortedError, NonRetryableError } from "./errors.js";
import type { JobDoneEvent } from "./events.js";
import { gatedHandler, scriptedWorkerSuite, SERVER_WORKER_ID, waitUntil } from "./scripted-server.test-support.js";
import { Worker } from "./worker.js";

// The worker against an in-process, scripted WorkerService (real grpc-js calls on 127.0.0.1).

const suite = scriptedWorkerSuite(2);
const startWorker = suite.startWorker;

const results = () => suite.server.of("result").map((c) => c.request);

describe("Worker", () => {
  it("registers, runs a job, reports its result with a sequence and counts the ack", async () => {
    const seen: JobDoneEvent[] = [];
    const w = await startWorker(async (job, { attempt }) => `${job.payload.toString()} / attempt ${attempt}`);
    w.on("job:done", (e) => seen.push(e));

    const [registration] = suite.server.of("register");
    expect(registration?.request).toMatchObject({ workerId: "", hostname: hostname(), sdkVersion: "jq-ts/0.1.0", queues: ["emails"], concurrency: 2 });
    expect(w.id).toBe(SERVER_WORKER_ID);
    expect(suite.server.of("streamJobs")[0]?.request.workerId).toBe(SERVER_WORKER_ID);

    suite.server.assign("job-1");
    await waitUntil(() => w.stats.succeeded === 1, "the result is acknowledged");
    expect(results()).toEqual([
      { sequence: "1", workerId: SERVER_WORKER_ID, result: { jobId: "job-1", attempt: 1, outcome: { $case: "success", value: { result: Buffer.from("payload of job-1 / attempt 1") } } }, results: [] },
    ]);
    expect(w.stats).toMatchObject({ received: 1, succeeded: 1, held: 0, inFlight: 0, unacked: 0 });
    expect(seen).toEqual([{ jobId: "job-1", attempt: 1, outcome: "succeeded", ackCode: ResultAckCode.ACCEPTED, jobStatus: expect.any(Number), message: undefined }]);
  });

  it("sends the registration's secret on every later worker call, and the new one after registering again", async () => {
    const w = await startWorker(async () => "ok");
    suite.server.assign("job-1");
    await waitUntil(() => w.stats.succeeded === 1, "the result is acknowledged");
    await waitUntil(() => suite.server.presentedSecrets.some((p) => p.rpc === "heartbeat"), "a heartbeat");
    await w.close();
    suite.worker = undefined;
    const [register, ...later] = suite.server.presentedSecrets;
    expect(register).toEqual({ rpc: "register", secret: undefined });
    expect(new Set(later.map((p) => p.rpc))).toEqual(new Set(["streamJobs", "reportResults", "heartbeat", "deregister"]));
    expect(later.filter((p) => p.secret !== "secret-1")).toEqual([]);
  });

  it("reports failures: message as thrown, retryable=false only for NonRetryableError", async () => {
    const w = await startWorker(async (job) => {
      if (job.id === "a") throw new Error("x".repeat(5000));
      throw new NonRetryableError("bad payload");
    });
    suite.server.assign("a");
    suite.server.assign("b");
    await waitUntil(() => w.stats.failed === 2, "both failures are acknowledged");
    const outcomes = Object.fromEntries(results().map((r) => [r.result?.jobId, r.result?.outcome]));
    expect(outcomes.a).toEqual({ $case: "failure", value: { message: "x".repeat(4096) } });
    expect(outcomes.b).toEqual({ $case: "failure", value: { message: "bad payload", retryable: false } });
  });

  it("keeps the given worker id and sends held jobs in heartbeats", async () => {
    const id = "0190a5a0-2222-7000-8000-000000000002";
    const g = gatedHandler();
    const w = await startWorker(g.handler, { workerId: id, labels: { zone: "a" } });
    expect(w.id).toBe(id);
    expect(suite.server.of("register")[0]?.request).toMatchObject({ workerId: id, labels: { zone: "a" } });
    suite.server.assign("held-1", { attempt: 4 });
    await waitUntil(() => g.started("held-1"), "the job runs");
    await waitUntil(() => suite.server.of("heartbeat").some((h) => h.request.heldJobs.some((j) => j.jobId === "held-1")), "a heartbeat reports the job");
    expect(suite.server.of("heartbeat").at(-1)?.request).toEqual({ workerId: id, heldJobs: [{ jobId: "held-1", attempt: 4 }], heldJobsComplete: true });
    g.release("held-1");
    await waitUntil(() => w.stats.held === 0, "the job is acknowledged");
  });

  it("with a given id, first hands back what a previous process left under it, once", async () => {
    const id = "0190a5a0-4444-7000-8000-000000000004";
    suite.server.onDeregister = () => ({ code: grpc.status.NOT_FOUND, details: "worker: not found" }); // a new id
    const w = await startWorker(async () => undefined, { workerId: id });
    expect(suite.server.calls.map((c) => c.rpc).slice(0, 2)).toEqual(["deregister", "register"]);
    expect(suite.server.of("deregister")[0]?.request.workerId).toBe(id);
    suite.server.onDeregister = () => 0;
    await w.close();
    expect(suite.server.of("deregister")).toHaveLength(2); // the release before start, and close()
  });

  it("with a server-assigned id, registers without deregistering first", async () => {
    await startWorker(async () => undefined);
    expect(suite.server.calls[0]?.rpc).toBe("register");
  });

  it("aborts a job cancelled on the stream and does not report it", async () => {
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    suite.server.assign("c-1");
    await waitUntil(() => g.started("c-1"), "the job runs");
    suite.server.cancel("c-1");
    await waitUntil(() => g.signals.get("c-1")?.aborted === true, "the signal is aborted");
    expect((g.signals.get("c-1")?.reason as JobAbortedError).kind).toBe("cancelled");
    expect(w.stats).toMatchObject({ cancelled: 1, held: 0, inFlight: 1 });
    g.release("c-1", "too late");
    await waitUntil(() => w.stats.inFlight === 0, "the handler returns");
    expect(results()).toEqual([]);
  });

  it("applies cancellations from a heartbeat reply", async () => {
    suite.server.heartbeatIntervalMs = 30;
    suite.server.onHeartbeat = (req) => ({ cancellations: req.heldJobs.map((j) => ({ ...j, reason: 8, message: "timed out" })) });
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    suite.server.assign("h-1");
    await waitUntil(() => g.signals.get("h-1")?.aborted === true, "the heartbeat reply cancels the job");
    expect((g.signals.get("h-1")?.reason as Error).message).toBe("timed out");
    expect(w.stats.cancelled).toBe(1);
    g.release("h-1");
  });

  it("never runs more handlers than its concurrency, even if the server sends more", async () => {
    let running = 0;
    let maxRunning = 0;
    const w = await startWorker(async () => {
      maxRunning = Math.max(maxRunning, ++running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
    });
    for (let i = 0; i < 6; i++) suite.server.assign(`j-${i}`);
    await waitUntil(() => w.stats.succeeded === 6, "all six are done");
    expect(maxRunning).toBe(2);
  });

  it("accounts for every delivery: received = succeeded + failed + stale + invalid + cancelled + held", async () => {
    const g = gatedHandler();
    suite.server.onResult = (r) => (r.result?.jobId === "stale" ? ResultAckCode.STALE : ResultAckCode.ACCEPTED);
    const w = await startWorker(g.handler, { concurrency: 3 });
    for (const id of ["ok", "stale", "cancel", "waiting"]) suite.server.assign(id);
    await waitUntil(() => g.started("cancel"), "three jobs run");
    suite.server.cancel("cancel");
    g.release("ok");
    g.release("stale");
    await waitUntil(() => w.stats.held === 1 && g.started("waiting"), "only the last job is held");
    const s = w.stats;
    expect(s).toMatchObject({ received: 4, succeeded: 1, stale: 1, cancelled: 1, held: 1 });
    expect(s.received).toBe(s.succeeded + s.failed + s.stale + s.invalid + s.cancelled + s.held);
    g.release("waiting");
    g.release("cancel");
  });

  it("counts STALE and INVALID acks and ends those results", async () => {
    suite.server.onResult = (r) => (r.result?.jobId === "s" ? ResultAckCode.STALE : ResultAckCode.INVALID);
    const errors: Error[] = [];
    const w = await startWorker(async () => undefined);
    w.on("error", (e) => errors.push(e));
    suite.server.assign("s");
    suite.server.assign("i");
    await waitUntil(() => w.stats.held === 0 && w.stats.received === 2, "both are acknowledged");
    expect(w.stats).toMatchObject({ stale: 1, invalid: 1, succeeded: 0 });
    expect(errors).toHaveLength(1);
  });

  it("drains on a DrainNotice: finishes held jobs, reports them, then deregisters and closes", async () => {
    const g = gatedHandler();
    let drainEvents = 0;
    const w = await startWorker(g.handler);
    w.on("drain", () => drainEvents++);
    suite.server.assign("d-1");
    await waitUntil(() => g.started("d-1"), "the job runs");
    suite.server.drain();
    await new Promise((r) => setTimeout(r, 30));
    expect(suite.server.of("deregister")).toHaveLength(0); // still finishing
    expect(g.signals.get("d-1")?.aborted).toBe(false);
    g.release("d-1", "finished");
    await w.drained;
    expect(drainEvents).toBe(1);
    const order = suite.server.calls.map((c) => c.rpc).filter((rpc) => rpc === "result" || rpc === "deregister");
    expect(order).toEqual(["result", "deregister"]);
    expect(w.stats).toMatchObject({ succeeded: 1, held: 0 });
    await expect(w.start()).rejects.toThrow(/closed/);
  });

  it("drains when a heartbeat reply says so", async () => {
    suite.server.heartbeatIntervalMs = 30;
    suite.server.onHeartbeat = () => ({ drain: true });
    const w = await startWorker(async () => undefined);
    await w.drained;
    expect(suite.server.of("deregister")).toHaveLength(1);
  });

  it("close() stops the job stream, waits for running jobs, flushes and deregisters", async () => {
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    suite.server.assign("x-1");
    await waitUntil(() => g.started("x-1"), "the job runs");
    const closing = w.close();
    await waitUntil(() => suite.server.jobStream === undefined, "the job stream is cancelled");
    expect(suite.server.of("deregister")).toHaveLength(0);
    g.release("x-1", "done");
    await closing;
    await w.close(); // twice is fine
    expect(w.stats).toMatchObject({ succeeded: 1, held: 0 });
    expect(suite.server.calls.at(-1)?.rpc).toBe("deregister");
  });

  it("close() aborts handlers that outlive closeTimeoutMs", async () => {
    const g = gatedHandler();
    const w = await startWorker(g.handler, { closeTimeoutMs: 50 });
    suite.server.assign("slow");
    await waitUntil(() => g.started("slow"), "the job runs");
    await w.close();
    expect((g.signals.get("slow")?.reason as JobAbortedError).kind).toBe("closing");
    expect(suite.server.of("deregister")).toHaveLength(1);
    expect(results()).toEqual([]);
    expect(w.stats.cancelled).toBe(1);
  });

  it("start() resolves without response headers after the grace period", async () => {
    suite.server.sendHeadersOnOpen = false;
    const began = Date.now();
    const w = await startWorker(async () => "ok", { streamReadyGraceMs: 100 });
    expect(Date.now() - began).toBeGreaterThanOrEqual(90);
    suite.server.assign("n-1");
    await waitUntil(() => w.stats.succeeded === 1, "the job runs");
  });

  it("start() rejects and leaves nothing open when registration or the job stream fails", async () => {
    suite.server.onRegister = () => ({ code: grpc.status.UNAUTHENTICATED, details: "no key" });
    await expect(startWorker(async () => undefined)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });

    suite.server.onRegister = (r) => r.workerId || SERVER_WORKER_ID;
    suite.server.onStreamJobs = () => ({ code: grpc.status.PERMISSION_DENIED, details: "no worker role" });
    await expect(startWorker(async () => undefined)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(suite.server.of("deregister")).toHaveLength(1); // the registered one is released
  });

  it("close() before start() is a no-op", async () => {
    const w = new Worker({ address: suite.address, queues: ["q"], handler: () => undefined });
    await w.close();
    await expect(w.start()).rejects.toThrow(/closed/);
    expect(suite.server.calls).toEqual([]);
  });
});
