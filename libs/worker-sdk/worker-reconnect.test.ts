import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ResultAckCode } from "../proto/index.js";
import type { JobAbortedError } from "./errors.js";
import type { JobHandler, WorkerOptions } from "./options.js";
import { gatedHandler, ScriptedWorkerServer, SERVER_WORKER_ID, waitUntil } from "./scripted-server.test-support.js";
import { Worker } from "./worker.js";

// Reconnects, resends and re-registration, against an in-process scripted WorkerService.

let server: ScriptedWorkerServer;
let address: string;
let worker: Worker | undefined;
const extraServers: ScriptedWorkerServer[] = [];

beforeEach(async () => {
  server = new ScriptedWorkerServer();
  address = await server.start();
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  server.stop();
  for (const s of extraServers.splice(0)) s.stop();
});

function startWorker(handler: JobHandler, options: Partial<WorkerOptions> = {}): Promise<Worker> {
  const w = new Worker({ address, queues: ["emails"], concurrency: 2, handler, reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...options });
  worker = w;
  return w.start().then(() => w);
}

const results = () => server.of("result").map((c) => c.request);

describe("Worker reconnects", () => {
  it("resends unacknowledged results on a new ReportResults stream after it breaks", async () => {
    const reconnects: unknown[] = [];
    server.onResult = () => undefined; // hold every ack
    const w = await startWorker(async () => "r");
    w.on("reconnect", (e) => reconnects.push(e));
    server.assign("r-1");
    server.assign("r-2");
    await waitUntil(() => results().length === 2, "both results are sent");
    expect(w.stats.unacked).toBe(2);

    server.onResult = () => ResultAckCode.ACCEPTED;
    server.endResultStream(grpc.status.UNAVAILABLE, "server shutting down");
    await waitUntil(() => w.stats.succeeded === 2, "the resent results are acknowledged");
    const resent = results().slice(2);
    expect(resent.map((r) => [r.sequence, r.result?.jobId])).toEqual([["1", "r-1"], ["2", "r-2"]]);
    expect(server.of("reportResultsOpened")).toHaveLength(2);
    expect(server.of("streamJobs")).toHaveLength(2); // both streams were reopened
    expect(server.of("register")).toHaveLength(1);
    expect(w.stats.reconnects).toBe(1);
    expect(reconnects).toHaveLength(1);
  });

  it("just reconnects when its job stream is replaced while the server still knows it", async () => {
    const w = await startWorker(async () => undefined);
    server.endJobStream(grpc.status.FAILED_PRECONDITION, "replaced by a newer stream");
    await waitUntil(() => w.stats.reconnects === 1, "the worker reconnects");
    expect(server.of("heartbeat").length).toBeGreaterThanOrEqual(1); // it checked its session first
    expect(server.of("register")).toHaveLength(1);
    server.assign("after");
    await waitUntil(() => w.stats.succeeded === 1, "jobs flow on the new stream");
  });

  it("registers again under the same id when the server declares it lost, dropping the jobs it ran", async () => {
    const g = gatedHandler();
    let lost = false;
    server.heartbeatIntervalMs = 30;
    server.onHeartbeat = () => (lost ? { code: grpc.status.FAILED_PRECONDITION, details: "worker is OFFLINE" } : { drain: false });
    server.onRegister = (r) => {
      lost = false;
      return r.workerId || SERVER_WORKER_ID;
    };
    const registered: boolean[] = [];
    const w = await startWorker(g.handler);
    w.on("registered", (e) => registered.push(e.reregistration));
    server.assign("l-1");
    await waitUntil(() => g.started("l-1"), "the job runs");

    lost = true;
    await waitUntil(() => server.of("register").length === 2 && w.stats.reconnects === 1, "the worker registers again and reconnects");
    expect(server.of("register")[1]?.request.workerId).toBe(SERVER_WORKER_ID);
    expect((g.signals.get("l-1")?.reason as JobAbortedError).kind).toBe("worker-lost");
    expect(registered).toEqual([true]);
    g.release("l-1", "stale");
    server.assign("l-2");
    await waitUntil(() => g.started("l-2"), "jobs flow again");
    g.release("l-2", "ok");
    await waitUntil(() => w.stats.succeeded === 1, "the new job is acknowledged");
    expect(results().map((r) => r.result?.jobId)).toEqual(["l-2"]);
    expect(w.stats).toMatchObject({ received: 2, cancelled: 1, succeeded: 1, held: 0 });
  });

  it("registers again when StreamJobs and Heartbeat say the worker is unknown", async () => {
    let known = true;
    server.onHeartbeat = () => (known ? { drain: false } : { code: grpc.status.NOT_FOUND, details: "worker: not found" });
    server.onStreamJobs = () => (known ? undefined : { code: grpc.status.NOT_FOUND, details: "worker: not found" });
    server.onRegister = (r) => {
      known = true;
      return r.workerId || SERVER_WORKER_ID;
    };
    const w = await startWorker(async () => "ok");
    known = false;
    server.endJobStream(grpc.status.NOT_FOUND, "worker: not found");
    await waitUntil(() => w.stats.reconnects === 1, "the worker registers again and reconnects");
    expect(server.of("register").map((c) => c.request.workerId)).toEqual(["", SERVER_WORKER_ID]);
    expect(server.of("deregister")).toHaveLength(0); // re-registering within a process hands nothing back
    server.assign("u-1");
    await waitUntil(() => w.stats.succeeded === 1, "jobs flow again");
  });

  it("comes back after the server restarts and resends what was never acknowledged", async () => {
    server.onResult = () => undefined;
    const w = await startWorker(async () => "kept");
    server.assign("k-1");
    await waitUntil(() => results().length === 1, "the result is sent");
    server.stop();
    await new Promise((r) => setTimeout(r, 300));

    const restarted = new ScriptedWorkerServer();
    extraServers.push(restarted);
    await restarted.start(Number(address.split(":")[1]));
    await waitUntil(() => w.stats.succeeded === 1, "the result reaches the restarted server");
    expect(restarted.of("result").map((c) => c.request.result?.jobId)).toEqual(["k-1"]);
    expect(w.stats.reconnects).toBe(1);
  });

  it("close() completes when the server is gone, giving up on acks after flushTimeoutMs", async () => {
    server.onResult = () => undefined;
    const w = await startWorker(async () => "lost", { flushTimeoutMs: 100 });
    server.assign("g-1");
    await waitUntil(() => results().length === 1, "the result is sent");
    server.stop();
    await w.close();
    expect(w.stats).toMatchObject({ unacked: 1, succeeded: 0 });
  });
});
