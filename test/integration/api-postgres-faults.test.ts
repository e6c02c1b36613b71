import * as grpc from "@grpc/grpc-js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { startLocalPostgres, type LocalPostgres } from "../bed/postgres.js";
import { startApi, type RunningApi } from "../support/api.js";
import { startApp } from "../support/app-process.js";
import { jobRequest } from "../support/job-requests.js";
import { RawWorker } from "../support/raw-worker.js";

/**
 * Issue 13 item 1: a replica must survive Postgres dropping its connections while results and
 * claims are in flight (pg_terminate_backend, a server restart). Calls caught in the fault fail
 * UNAVAILABLE, readiness goes false and comes back by itself. Private Postgres: this file kills it.
 */
describe("apps/api survives Postgres dropping its connections", () => {
  let postgres: LocalPostgres;
  let api: RunningApi;
  let c: JqClient;
  let admin: pg.Client;
  let base: string;

  beforeAll(async () => {
    postgres = await startLocalPostgres();
    api = await startApi(postgres.endpoint, { JQ_DATABASE_CONNECT_TIMEOUT_MS: "1000", JQ_HEARTBEAT_TIMEOUT_MS: "60000" });
    base = `http://127.0.0.1:${await api.app.ready()}`;
    c = api.client();
  });
  afterAll(async () => {
    await admin?.end().catch(() => {});
    await api?.stop();
    await postgres?.stop();
  });

  const readyStatus = async () => (await fetch(`${base}/readyz`)).status;
  const waitReady = async (want: number, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while ((await readyStatus()) !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return readyStatus();
  };

  /** Submits jobs and reports every assignment's result until `stop()`; collects each failure code. */
  const load = (queue: string, worker: RawWorker) => {
    const codes = new Set<string>();
    let running = true;
    let reported = 0;
    const submitting = (async () => {
      while (running) {
        await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 20 }, () => jobRequest(queue)) }).catch((e: grpc.ServiceError) => codes.add(grpc.status[e.code]!));
      }
    })();
    const reporting = (async () => {
      while (running) {
        // A stream caught in the fault ends UNAVAILABLE; a worker opens a new one.
        if (worker.streamError !== undefined) {
          if (worker.streamError !== null) codes.add(grpc.status[worker.streamError.code]!);
          worker.close();
          worker.open();
        }
        for (const a of worker.assignments.splice(0)) {
          reported++;
          await c
            .call(c.workers, "reportResult", { workerId: worker.id, result: { jobId: a.jobId, attempt: a.attempt, outcome: { $case: "success", value: { result: Buffer.from("r") } } } }, { headers: worker.headers() })
            .catch((e: grpc.ServiceError) => codes.add(grpc.status[e.code]!));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    return {
      codes,
      reported: () => reported,
      stop: async () => {
        running = false;
        await Promise.all([submitting, reporting]);
      },
    };
  };

  it("keeps running through repeated pg_terminate_backend of its backends, answering UNAVAILABLE at worst", async () => {
    await c.call(c.admin, "createQueue", { name: "faults", paused: false, settings: {} });
    const worker = (await RawWorker.register(c, ["faults"], 50)).open();
    admin = new pg.Client({ connectionString: postgres.endpoint, application_name: "jq-test-admin" });
    await admin.connect();
    const traffic = load("faults", worker);
    await worker.until(() => traffic.reported() >= 20, 10_000, "first results");
    const before = traffic.reported();
    const until = Date.now() + 4000;
    let killed = 0;
    while (Date.now() < until) {
      const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'jq-api' AND pid <> pg_backend_pid()");
      killed += rowCount ?? 0;
      await new Promise((r) => setTimeout(r, 50));
    }
    await traffic.stop();
    worker.close();
    expect(killed).toBeGreaterThan(10);
    expect(api.app.child.exitCode).toBeNull();
    expect([...traffic.codes].filter((code) => code !== "UNAVAILABLE")).toEqual([]);
    expect(await waitReady(200)).toBe(200);
    await c.call(c.admin, "listQueues", { pageSize: 10, pageToken: "" });
    // Results and claims really were in flight while the backends were killed.
    expect(traffic.reported()).toBeGreaterThan(before);
  });

  it("the scheduler and health processes survive their backends being terminated, and are ready again after", async () => {
    const common = { JQ_DATABASE_URL: postgres.endpoint, JQ_DATABASE_CONNECT_TIMEOUT_MS: "1000", JQ_SWEEP_INTERVAL_MS: "50", JQ_PRESENCE_INTERVAL_MS: "100" };
    const scheduler = startApp("scheduler", { ...common, JQ_NODE_ID: "sched-faults" });
    const health = startApp("health", { ...common, JQ_NODE_ID: "health-faults" });
    try {
      const ports = await Promise.all([scheduler.ready(), health.ready()]);
      const killer = new pg.Client({ connectionString: postgres.endpoint, application_name: "jq-test-admin" });
      await killer.connect();
      const until = Date.now() + 3000;
      let killed = 0;
      while (Date.now() < until) {
        const { rowCount } = await killer.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND application_name NOT IN ('jq-api', 'jq-test-admin')",
        );
        killed += rowCount ?? 0;
        await new Promise((r) => setTimeout(r, 50));
      }
      await killer.end();
      expect(killed).toBeGreaterThan(5);
      expect(scheduler.child.exitCode).toBeNull();
      expect(health.child.exitCode).toBeNull();
      for (const port of ports) {
        const deadline = Date.now() + 20_000;
        let status = 0;
        while ((status = (await fetch(`http://127.0.0.1:${port}/readyz`)).status) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(status).toBe(200);
      }
    } finally {
      expect(await scheduler.stop()).toBe(0);
      expect(await health.stop()).toBe(0);
    }
  });

  it("keeps running through a Postgres restart under load, not ready while it is down, ready again after", async () => {
    const worker = (await RawWorker.register(c, ["faults"], 50)).open();
    const traffic = load("faults", worker);
    await new Promise((r) => setTimeout(r, 500));
    await admin.end().catch(() => {});
    await postgres.stopServer();
    expect(await waitReady(503)).toBe(503);
    await new Promise((r) => setTimeout(r, 500));
    await postgres.startServer();
    expect(await waitReady(200)).toBe(200);
    await traffic.stop();
    worker.close();
    expect(api.app.child.exitCode).toBeNull();
    expect([...traffic.codes].filter((code) => code !== "UNAVAILABLE")).toEqual([]);
    await c.call(c.admin, "listQueues", { pageSize: 10, pageToken: "" });
    expect(api.app.logs.filter((l) => l.msg === "uncaught exception" || l.msg === "unhandled rejection")).toEqual([]);
  });
});
