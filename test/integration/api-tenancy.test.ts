import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const KEYS = { ops: "ak-tenancy-ops", tenantAdmin: "ak-tenancy-ta", tenant: "ck-tenancy-t", other: "ck-tenancy-o", tenantWorker: "wk-tenancy-tw", worker: "wk-tenancy-w" };
const { PERMISSION_DENIED, NOT_FOUND, INVALID_ARGUMENT } = grpc.status;

/**
 * Issue 13 item 3: keys scoped to queues (`a` and the prefix `pre.*`) see and touch only those
 * queues in every RPC; unscoped keys work as before.
 */
describe("tenancy: API keys scoped to queues", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let ops: JqClient;
  let ta: JqClient;
  let t: JqClient;
  let o: JqClient;
  let tw: JqClient;
  let w: JqClient;
  const ids: Record<"a" | "pre" | "b", string> = { a: "", pre: "", b: "" };
  // Loosely typed calls: the matrix sends minimal requests to every method.
  const call = (c: JqClient, svc: "jobs" | "admin" | "workers", method: string, req: object) =>
    (c as unknown as { call(s: unknown, m: string, r: unknown): Promise<Record<string, unknown>> }).call(c[svc], method, req);

  beforeAll(async () => {
    db = await createTestDatabase();
    const scope = "a|pre.*";
    api = await startApi(db.url, {
      JQ_API_KEYS: [
        `ops:admin:${sha(KEYS.ops)}`,
        `tenant-admin:admin:${sha(KEYS.tenantAdmin)}:${scope}`,
        `tenant:client:${sha(KEYS.tenant)}:${scope}`,
        `other:client:${sha(KEYS.other)}`,
        `tenant-worker:worker:${sha(KEYS.tenantWorker)}:${scope}`,
        `worker:worker:${sha(KEYS.worker)}`,
      ].join(","),
      JQ_HEARTBEAT_TIMEOUT_MS: "60000",
    });
    [ops, ta, t, o, tw, w] = [KEYS.ops, KEYS.tenantAdmin, KEYS.tenant, KEYS.other, KEYS.tenantWorker, KEYS.worker].map((k) => api.client(k)) as [JqClient, JqClient, JqClient, JqClient, JqClient, JqClient];
    for (const name of ["a", "pre.x", "b"]) await ops.call(ops.admin, "createQueue", { name, paused: true, settings: {} });
    ids.a = (await ops.call(ops.jobs, "submitJob", jobRequest("a"))).job!.id;
    ids.pre = (await ops.call(ops.jobs, "submitJob", jobRequest("pre.x"))).job!.id;
    ids.b = (await ops.call(ops.jobs, "submitJob", jobRequest("b"))).job!.id;
    await call(ops, "admin", "createSchedule", { name: "sched-b", queue: "b", cron: "0 * * * *", timeZone: "UTC", payload: Buffer.alloc(0), priority: 0, metadata: {} });
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  it("JobService: submits only to its queues, and the jobs of other queues do not exist for it", async () => {
    await call(t, "jobs", "submitJob", jobRequest("a"));
    await call(t, "jobs", "submitJob", jobRequest("pre.x"));
    await expectCode(call(t, "jobs", "submitJob", jobRequest("b")), PERMISSION_DENIED, /^queue: /);
    await expectCode(call(t, "jobs", "submitJobs", { jobs: [jobRequest("a"), jobRequest("b")] }), PERMISSION_DENIED, /^jobs\[1\]\.queue: /);

    for (const id of [ids.a, ids.pre]) expect((await call(t, "jobs", "getJobStatus", { jobId: id, view: 0 })).job).toBeDefined();
    await expectCode(call(t, "jobs", "getJobStatus", { jobId: ids.b, view: 0 }), NOT_FOUND);
    await expectCode(call(t, "jobs", "getJobLogs", { jobId: ids.b, pageSize: 0, pageToken: "" }), NOT_FOUND);
    await expectCode(call(t, "jobs", "cancelJob", { jobId: ids.b, message: "" }), NOT_FOUND);
    await expectCode(call(t, "jobs", "retryJob", { jobId: ids.b }), NOT_FOUND);
    const watch = t.jobs.watchJob({ jobId: ids.b, afterEventId: "0" }, t.metadata());
    const watchError = await new Promise<grpc.ServiceError>((resolve) => watch.on("error", resolve));
    expect(grpc.status[watchError.code]).toBe("NOT_FOUND");

    await expectCode(call(t, "jobs", "listJobs", { queue: "", statuses: [], pageSize: 0, pageToken: "", view: 0 }), INVALID_ARGUMENT, /^queue: is required/);
    await expectCode(call(t, "jobs", "listJobs", { queue: "b", statuses: [], pageSize: 0, pageToken: "", view: 0 }), PERMISSION_DENIED);
    const listed = (await call(t, "jobs", "listJobs", { queue: "a", statuses: [], pageSize: 0, pageToken: "", view: 0 })).jobs as { queue: string }[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((j) => j.queue === "a")).toBe(true);
    // The cancelled-then-retried job of its own queue works as usual.
    await call(t, "jobs", "cancelJob", { jobId: ids.pre, message: "" });
    await call(t, "jobs", "retryJob", { jobId: ids.pre });
  });

  it("an unscoped key sees every queue, as before", async () => {
    expect((await call(o, "jobs", "getJobStatus", { jobId: ids.b, view: 0 })).job).toBeDefined();
    expect(((await call(o, "jobs", "listJobs", { queue: "", statuses: [], pageSize: 0, pageToken: "", view: 0 })).jobs as unknown[]).length).toBeGreaterThanOrEqual(3);
    const queues = (await call(ops, "admin", "listQueues", { pageSize: 0, pageToken: "" })).queues as { name: string }[];
    expect(queues.map((q) => q.name).sort()).toEqual(["a", "b", "pre.x"]);
  });

  it("AdminService: queue admin, dead letters, schedules and workers only within its queues", async () => {
    await expectCode(call(ta, "admin", "createQueue", { name: "b2", paused: false, settings: {} }), PERMISSION_DENIED, /^name: /);
    await call(ta, "admin", "createQueue", { name: "pre.new", paused: false, settings: {} });
    for (const method of ["getQueue", "pauseQueue", "resumeQueue"]) await expectCode(call(ta, "admin", method, { name: "b" }), PERMISSION_DENIED);
    await expectCode(call(ta, "admin", "updateQueue", { name: "b", settings: {}, updateMask: [] }), PERMISSION_DENIED);
    await expectCode(call(ta, "admin", "deleteQueue", { name: "b", force: true }), PERMISSION_DENIED);
    expect((await call(ta, "admin", "getQueue", { name: "a" })).queue).toBeDefined();
    const queues = (await call(ta, "admin", "listQueues", { pageSize: 0, pageToken: "" })).queues as { name: string }[];
    expect(queues.map((q) => q.name).sort()).toEqual(["a", "pre.new", "pre.x"]);

    const selector = (queue: string) => ({ queue, reasons: [], jobIds: [] });
    await expectCode(call(ta, "admin", "listDeadLetters", { selector: selector(""), pageSize: 0, pageToken: "", view: 0 }), INVALID_ARGUMENT, /^selector\.queue: /);
    await expectCode(call(ta, "admin", "listDeadLetters", { selector: selector("b"), pageSize: 0, pageToken: "", view: 0 }), PERMISSION_DENIED);
    await call(ta, "admin", "listDeadLetters", { selector: selector("a"), pageSize: 0, pageToken: "", view: 0 });
    await expectCode(call(ta, "admin", "requeueDeadLetters", { selector: selector("b"), limit: 0 }), PERMISSION_DENIED);
    await expectCode(call(ta, "admin", "purgeDeadLetters", { selector: selector("b") }), PERMISSION_DENIED);

    await expectCode(call(ta, "admin", "createSchedule", { name: "s2", queue: "b", cron: "0 * * * *", timeZone: "UTC", payload: Buffer.alloc(0), priority: 0, metadata: {} }), PERMISSION_DENIED, /^queue: /);
    await expectCode(call(ta, "admin", "listSchedules", { queue: "", pageSize: 0, pageToken: "" }), INVALID_ARGUMENT);
    await expectCode(call(ta, "admin", "listSchedules", { queue: "b", pageSize: 0, pageToken: "" }), PERMISSION_DENIED);
    await expectCode(call(ta, "admin", "deleteSchedule", { name: "sched-b" }), NOT_FOUND);
    expect(((await call(ops, "admin", "listSchedules", { queue: "b", pageSize: 0, pageToken: "" })).schedules as unknown[]).length).toBe(1);

    const mixed = await RawWorker.register(w, ["a", "b"], 1);
    const mine = await RawWorker.register(w, ["a"], 1);
    await expectCode(call(ta, "admin", "listWorkers", { queue: "", statuses: [], pageSize: 0, pageToken: "" }), INVALID_ARGUMENT);
    const workers = (await call(ta, "admin", "listWorkers", { queue: "a", statuses: [], pageSize: 0, pageToken: "" })).workers as { id: string }[];
    expect(workers.map((x) => x.id)).toEqual([mine.id]);
    await expectCode(call(ta, "admin", "drainWorker", { workerId: mixed.id }), NOT_FOUND);
    await expectCode(call(ta, "admin", "removeWorker", { workerId: mixed.id }), NOT_FOUND);
    await call(ta, "admin", "drainWorker", { workerId: mine.id });
    // Cluster status names nodes only, no queue: open to a scoped admin.
    expect((await call(ta, "admin", "getClusterStatus", {})).nodes).toBeDefined();
  });

  it("WorkerService: a scoped worker key registers only for its queues", async () => {
    await RawWorker.register(tw, ["a", "pre.x"], 1);
    await expectCode(call(tw, "workers", "registerWorker", { workerId: "", hostname: "h", sdkVersion: "t", queues: ["a", "b"], concurrency: 1, labels: {} }), PERMISSION_DENIED, /^queues\[1\]: /);
  });
});
