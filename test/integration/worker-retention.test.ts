import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");

/** Issue 13 item 9: worker rows expire by retention (a scheduler duty) and an admin removes one. */
describe("worker rows do not pile up", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let scheduler: AppProcess;
  let c: JqClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_HEARTBEAT_TIMEOUT_MS: "60000" });
    scheduler = startApp("scheduler", { JQ_DATABASE_URL: db.url, JQ_WORKER_RETENTION_MS: "1500", JQ_RETENTION_INTERVAL_MS: "200", JQ_HEARTBEAT_TIMEOUT_MS: "60000" });
    await scheduler.ready();
    c = api.client();
  });
  afterAll(async () => {
    expect(await scheduler?.stop()).toBe(0);
    expect(await api?.stop()).toBe(0);
    await db.drop();
  });

  const row = async (id: string) => (await db.pool.query("SELECT status FROM workers WHERE worker_id = $1", [id])).rows[0] as { status: string } | undefined;

  it("deletes OFFLINE workers after JQ_WORKER_RETENTION_MS, and keeps live ones", async () => {
    const gone = await RawWorker.register(c, ["r"], 1);
    const live = (await RawWorker.register(c, ["r"], 1)).beat(300);
    await c.call(c.workers, "deregister", { workerId: gone.id }, { headers: gone.headers() });
    expect(await row(gone.id)).toEqual({ status: "OFFLINE" });
    const deadline = Date.now() + 10_000;
    while ((await row(gone.id)) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await row(gone.id)).toBeUndefined();
    expect(await row(live.id)).toEqual({ status: "ONLINE" });
    live.close();
  });

  it("RemoveWorker removes an OFFLINE worker, refuses a live one, and answers NOT_FOUND after", async () => {
    const w = await RawWorker.register(c, ["r"], 1);
    await expectCode(c.call(c.admin, "removeWorker", { workerId: w.id }), grpc.status.FAILED_PRECONDITION, /not OFFLINE/);
    await c.call(c.workers, "deregister", { workerId: w.id }, { headers: w.headers() });
    await c.call(c.admin, "removeWorker", { workerId: w.id });
    expect(await row(w.id)).toBeUndefined();
    const listed = await c.call(c.admin, "listWorkers", { queue: "r", statuses: [], pageSize: 0, pageToken: "" });
    expect(listed.workers.map((x) => x.id)).not.toContain(w.id);
    await expectCode(c.call(c.admin, "removeWorker", { workerId: w.id }), grpc.status.NOT_FOUND);
    await expectCode(c.call(c.admin, "removeWorker", { workerId: "nope" }), grpc.status.INVALID_ARGUMENT, /^worker_id/);
  });

  it("RemoveWorker needs the admin role", async () => {
    const keyed = await startApi(db.url, { JQ_API_KEYS: `w:worker:${sha("wk-retention-1")},ops:admin:${sha("ak-retention-1")}` });
    try {
      const worker = keyed.client("wk-retention-1");
      await expectCode(worker.call(worker.admin, "removeWorker", { workerId: "0190f5b2-7c1a-7d3e-8f00-123456789abc" }), grpc.status.PERMISSION_DENIED);
    } finally {
      expect(await keyed.stop()).toBe(0);
    }
  });
});
