import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const KEYS = { admin: "ak-identity-0001", fleetA: "wk-identity-000a", fleetB: "wk-identity-000b" } as const;

/**
 * Issue 13 item 2: a worker id is bound to the registration that created it. Another caller, even
 * with a valid worker key (the same one, or another), cannot open its stream, heartbeat, report its
 * jobs, deregister it or register it again: PERMISSION_DENIED, and nothing changes.
 */
describe("worker identity is bound to its registration", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let admin: JqClient;
  let a: JqClient;
  let b: JqClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, {
      JQ_API_KEYS: `ops:admin:${sha(KEYS.admin)},fleet-a:worker:${sha(KEYS.fleetA)},fleet-b:worker:${sha(KEYS.fleetB)}`,
      JQ_HEARTBEAT_TIMEOUT_MS: "60000",
    });
    admin = api.client(KEYS.admin);
    a = api.client(KEYS.fleetA);
    b = api.client(KEYS.fleetB);
    await admin.call(admin.admin, "createQueue", { name: "ids", paused: false, settings: {} });
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  const held = async (workerId: string) =>
    (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE worker_id = $1 AND status IN ('ASSIGNED', 'RUNNING')", [workerId])).rows[0]!.n;

  it("returns a secret and stores only its hash", async () => {
    const w = await RawWorker.register(a, ["ids"], 1);
    expect(w.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await db.pool.query("SELECT secret_sha256, registered_by FROM workers WHERE worker_id = $1", [w.id]);
    expect(rows[0].secret_sha256).toEqual(createHash("sha256").update(w.secret).digest());
    expect(rows[0].registered_by).toBe("fleet-a");
    expect(JSON.stringify(api.app.logs)).not.toContain(w.secret);
  });

  it.each([
    ["the same worker key without the secret", () => a, () => ({})],
    ["the same worker key with a wrong secret", () => a, () => ({ "jq-worker-secret": "not-the-secret" })],
    ["another worker key with a wrong secret", () => b, () => ({ "jq-worker-secret": "x".repeat(43) })],
  ])("refuses every worker call from %s", async (_name, caller, headersOf) => {
    const victim = (await RawWorker.register(a, ["ids"], 2)).open().beat(500);
    const { job } = await admin.call(admin.jobs, "submitJob", jobRequest("ids"));
    await victim.until(() => victim.assignments.length === 1);
    const assignment = victim.assignments[0]!;
    const c = caller();
    const headers = headersOf() as Record<string, string>;
    const result = { jobId: job!.id, attempt: assignment.attempt, outcome: { $case: "success" as const, value: { result: Buffer.from("forged") } } };

    await expectCode(c.call(c.workers, "heartbeat", { workerId: victim.id, heldJobs: [], heldJobsComplete: false }, { headers }), grpc.status.PERMISSION_DENIED, /jq-worker-secret/);
    await expectCode(c.call(c.workers, "reportResult", { workerId: victim.id, result }, { headers }), grpc.status.PERMISSION_DENIED);
    await expectCode(c.call(c.workers, "deregister", { workerId: victim.id }, { headers }), grpc.status.PERMISSION_DENIED);

    const stream = c.workers.streamJobs({ workerId: victim.id, maxAssignmentsPerMessage: 0 }, c.metadata(headers));
    const streamError = await new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    expect(grpc.status[streamError.code]).toBe("PERMISSION_DENIED");

    const results = c.workers.reportResults(c.metadata(headers));
    const resultsError = new Promise<grpc.ServiceError>((resolve) => results.on("error", resolve));
    results.write({ sequence: "1", workerId: victim.id, result, results: [] });
    expect(grpc.status[(await resultsError).code]).toBe("PERMISSION_DENIED");

    // The victim still holds its job, its stream is the one open, and its own result is accepted.
    expect(await held(victim.id)).toBe(1);
    expect(victim.streamError).toBeUndefined();
    expect((await victim.ackOf(victim.succeed(assignment))).code).toBe(1);
    victim.close();
  });

  it("refuses to register a live worker's id again from another key without its secret", async () => {
    const victim = (await RawWorker.register(a, ["ids"], 1)).open();
    await expectCode(
      b.call(b.workers, "registerWorker", { workerId: victim.id, hostname: "evil", sdkVersion: "x", queues: ["ids"], concurrency: 1, labels: {} }),
      grpc.status.PERMISSION_DENIED,
    );
    // The same key may (a restarted process keeps its id), and so may anyone with the secret.
    const again = await b.call(
      b.workers,
      "registerWorker",
      { workerId: victim.id, hostname: "h", sdkVersion: "x", queues: ["ids"], concurrency: 1, labels: {} },
      { headers: victim.headers() },
    );
    expect(again.worker!.id).toBe(victim.id);
    expect(again.workerSecret).not.toBe(victim.secret);
    // The old secret is void from now on.
    await expectCode(a.call(a.workers, "heartbeat", { workerId: victim.id, heldJobs: [], heldJobsComplete: false }, { headers: victim.headers() }), grpc.status.PERMISSION_DENIED);
    victim.close();
  });
});
