import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ResultAckCode } from "../proto/index.js";
import type { JobAbortedError } from "./errors.js";
import { gatedHandler, scriptedWorkerSuite, ScriptedWorkerServer, SERVER_WORKER_ID, waitUntil } from "./scripted-server.test-support.js";

// Reconnects, resends and re-registration, against an in-process scripted WorkerService.

const suite = scriptedWorkerSuite(2);
const startWorker = suite.startWorker;

const results = () => suite.server.of("result").map((c) => c.request);

describe("Worker reconnects", () => {
  it("resends unacknowledged results on a new ReportResults stream after it breaks", async () => {
    const reconnects: unknown[] = [];
    suite.server.onResult = () => undefined; // hold every ack
    const w = await startWorker(async () => "r");
    w.on("reconnect", (e) => reconnects.push(e));
    suite.server.assign("r-1");
    suite.server.assign("r-2");
    await waitUntil(() => results().length === 2, "both results are sent");
    expect(w.stats.unacked).toBe(2);

    suite.server.onResult = () => ResultAckCode.ACCEPTED;
    suite.server.endResultStream(grpc.status.UNAVAILABLE, "server shutting down");
    await waitUntil(() => w.stats.succeeded === 2, "the resent results are acknowledged");
    const resent = results().slice(2);
    expect(resent.map((r) => [r.sequence, r.result?.jobId])).toEqual([["1", "r-1"], ["2", "r-2"]]);
    expect(suite.server.of("reportResultsOpened")).toHaveLength(2);
    expect(suite.server.of("streamJobs")).toHaveLength(2); // both streams were reopened
    expect(suite.server.of("register")).toHaveLength(1);
    expect(w.stats.reconnects).toBe(1);
    expect(reconnects).toHaveLength(1);
  });

  it("just reconnects when its job stream is replaced while the server still knows it", async () => {
    const w = await startWorker(async () => undefined);
    suite.server.endJobStream(grpc.status.FAILED_PRECONDITION, "replaced by a newer stream");
    await waitUntil(() => w.stats.reconnects === 1, "the worker reconnects");
    expect(suite.server.of("heartbeat").length).toBeGreaterThanOrEqual(1); // it checked its session first
    expect(suite.server.of("register")).toHaveLength(1);
    suite.server.assign("after");
    await waitUntil(() => w.stats.succeeded === 1, "jobs flow on the new stream");
  });

  it("registers again under the same id when the server declares it lost, dropping the jobs it ran", async () => {
    const g = gatedHandler();
    let lost = false;
    suite.server.heartbeatIntervalMs = 30;
    suite.server.onHeartbeat = () => (lost ? { code: grpc.status.FAILED_PRECONDITION, details: "worker is OFFLINE" } : { drain: false });
    suite.server.onRegister = (r) => {
      lost = false;
      return r.workerId || SERVER_WORKER_ID;
    };
    const registered: boolean[] = [];
    const w = await startWorker(g.handler);
    w.on("registered", (e) => registered.push(e.reregistration));
    suite.server.assign("l-1");
    await waitUntil(() => g.started("l-1"), "the job runs");

    lost = true;
    await waitUntil(() => suite.server.of("register").length === 2 && w.stats.reconnects === 1, "the worker registers again and reconnects");
    expect(suite.server.of("register")[1]?.request.workerId).toBe(SERVER_WORKER_ID);
    expect((g.signals.get("l-1")?.reason as JobAbortedError).kind).toBe("worker-lost");
    expect(registered).toEqual([true]);
    g.release("l-1", "stale");
    suite.server.assign("l-2");
    await waitUntil(() => g.started("l-2"), "jobs flow again");
    g.release("l-2", "ok");
    await waitUntil(() => w.stats.succeeded === 1, "the new job is acknowledged");
    expect(results().map((r) => r.result?.jobId)).toEqual(["l-2"]);
    expect(w.stats).toMatchObject({ received: 2, cancelled: 1, succeeded: 1, held: 0 });
  });

  it("registers again when StreamJobs and Heartbeat say the worker is unknown", async () => {
    let known = true;
    suite.server.onHeartbeat = () => (known ? { drain: false } : { code: grpc.status.NOT_FOUND, details: "worker: not found" });
    suite.server.onStreamJobs = () => (known ? undefined : { code: grpc.status.NOT_FOUND, details: "worker: not found" });
    suite.server.onRegister = (r) => {
      known = true;
      return r.workerId || SERVER_WORKER_ID;
    };
    const w = await startWorker(async () => "ok");
    known = false;
    suite.server.endJobStream(grpc.status.NOT_FOUND, "worker: not found");
    await waitUntil(() => w.stats.reconnects === 1, "the worker registers again and reconnects");
    expect(suite.server.of("register").map((c) => c.request.workerId)).toEqual(["", SERVER_WORKER_ID]);
    expect(suite.server.of("deregister")).toHaveLength(0); // re-registering within a process hands nothing back
    suite.server.assign("u-1");
    await waitUntil(() => w.stats.succeeded === 1, "jobs flow again");
  });

  it("comes back after the server restarts and resends what was never acknowledged", async () => {
    suite.server.onResult = () => undefined;
    const w = await startWorker(async () => "kept");
    suite.server.assign("k-1");
    await waitUntil(() => results().length === 1, "the result is sent");
    suite.server.stop();
    await new Promise((r) => setTimeout(r, 300));

    const restarted = new ScriptedWorkerServer();
    suite.extraServers.push(restarted);
    await restarted.start(Number(suite.address.split(":")[1]));
    await waitUntil(() => w.stats.succeeded === 1, "the result reaches the restarted server");
    expect(restarted.of("result").map((c) => c.request.result?.jobId)).toEqual(["k-1"]);
    expect(w.stats.reconnects).toBe(1);
  });

  it("close() completes when the server is gone, giving up on acks after flushTimeoutMs", async () => {
    suite.server.onResult = () => undefined;
    const w = await startWorker(async () => "lost", { flushTimeoutMs: 100 });
    suite.server.assign("g-1");
    await waitUntil(() => results().length === 1, "the result is sent");
    suite.server.stop();
    await w.close();
    expect(w.stats).toMatchObject({ unacked: 1, succeeded: 0 });
  });
});
