import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The real grpcurl (scripts/services/grpcurl.sh builds it once and caches it) against a real
 * apps/api process, by server reflection alone: no .proto file is given to grpcurl, and it runs
 * from a folder that holds none.
 */
describe("gRPC server reflection, through grpcurl", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let grpcurlBin: string;

  beforeAll(async () => {
    grpcurlBin = execFileSync("bash", [`${root}/scripts/services/grpcurl.sh`], { encoding: "utf8" }).trim();
    db = await createTestDatabase();
    api = await startApi(db.url);
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  async function grpcurl(...args: string[]): Promise<string> {
    const { stdout } = await run(grpcurlBin, ["-plaintext", ...args], { cwd: "/", timeout: 20_000 });
    return stdout;
  }
  /** One unary call with a JSON request; the JSON answer, parsed. */
  async function call(method: string, request: object = {}, headers: readonly string[] = []): Promise<Record<string, unknown>> {
    const out = await grpcurl(...headers.flatMap((h) => ["-H", h]), "-d", JSON.stringify(request), api.address, method);
    return JSON.parse(out) as Record<string, unknown>;
  }
  /** A failing call: grpcurl's stderr, which names the gRPC code. */
  async function callFails(method: string, request: object): Promise<string> {
    const error = await grpcurl("-d", JSON.stringify(request), api.address, method).then(
      () => undefined,
      (err: { stderr: string }) => err.stderr,
    );
    expect(error, `${method} should have failed`).toBeDefined();
    return error!;
  }

  it("lists the three jq services, the health service and reflection itself", async () => {
    const services = (await grpcurl(api.address, "list")).trim().split("\n");
    expect(services).toEqual(
      expect.arrayContaining(["jq.v1.JobService", "jq.v1.WorkerService", "jq.v1.AdminService", "grpc.health.v1.Health"]),
    );
    expect(await grpcurl(api.address, "list", "jq.v1.AdminService")).toContain("jq.v1.AdminService.GetClusterStatus");
  });

  it("describes every service and a message that uses the well-known types", async () => {
    for (const service of ["jq.v1.JobService", "jq.v1.WorkerService", "jq.v1.AdminService", "grpc.health.v1.Health"]) {
      expect(await grpcurl(api.address, "describe", service)).toContain(`${service} is a service`);
    }
    const node = await grpcurl(api.address, "describe", "jq.v1.ClusterNode");
    expect(node).toContain(".google.protobuf.Timestamp started_at");
    const update = await grpcurl(api.address, "describe", "jq.v1.UpdateQueueRequest");
    expect(update).toContain(".google.protobuf.FieldMask update_mask");
    // A proto3 `optional` field keeps its presence through reflection.
    expect(await grpcurl(api.address, "describe", "jq.v1.CreateScheduleRequest")).toMatch(/optional bool enabled = 5/);
  });

  it("answers the health service by reflection", async () => {
    expect(await call("grpc.health.v1.Health/Check")).toEqual({ status: "SERVING" });
    expect(await call("grpc.health.v1.Health/Check", { service: "jq.v1.JobService" })).toEqual({ status: "SERVING" });
  });

  it("calls every AdminService and JobService RPC", async () => {
    const created = await call("jq.v1.AdminService/CreateQueue", { name: "emails", settings: { timeout: "30s" } });
    expect(created).toMatchObject({ queue: { name: "emails", settings: { timeout: "30s" } } });
    expect(await call("jq.v1.AdminService/UpdateQueue", { name: "emails", settings: { maxRetries: 5 }, updateMask: { paths: ["max_retries"] } }))
      .toMatchObject({ queue: { settings: { maxRetries: 5 } } });
    expect(await call("jq.v1.AdminService/GetQueue", { name: "emails" })).toMatchObject({ queue: { name: "emails" } });
    expect(JSON.stringify(await call("jq.v1.AdminService/ListQueues"))).toContain('"emails"');
    expect(await call("jq.v1.AdminService/PauseQueue", { name: "emails" })).toMatchObject({ queue: { paused: true } });
    expect(await call("jq.v1.AdminService/ResumeQueue", { name: "emails" })).toMatchObject({ queue: { name: "emails" } });

    const submitted = await call("jq.v1.JobService/SubmitJob", { queue: "emails", payload: Buffer.from("hi").toString("base64"), delay: "3600s" });
    const job = submitted.job as { id: string; status: string };
    expect(job.status).toBe("JOB_STATUS_PENDING");
    const batch = await call("jq.v1.JobService/SubmitJobs", { jobs: [{ queue: "emails" }, { queue: "emails", runAt: "2099-01-01T00:00:00Z" }] });
    expect((batch.results as unknown[]).length).toBe(2);
    const status = await call("jq.v1.JobService/GetJobStatus", { jobId: job.id, view: "JOB_VIEW_FULL" });
    expect(status).toMatchObject({ job: { id: job.id, queue: "emails", payload: Buffer.from("hi").toString("base64") } });
    expect(((await call("jq.v1.JobService/ListJobs", { queue: "emails" })).jobs as unknown[]).length).toBe(3);
    expect(await call("jq.v1.JobService/CancelJob", { jobId: job.id, message: "by grpcurl" })).toMatchObject({ job: { id: job.id } });
    const logs = await call("jq.v1.JobService/GetJobLogs", { jobId: job.id });
    expect((logs.events as { type: string }[]).map((e) => e.type)).toContain("JOB_EVENT_TYPE_CANCELLED");

    const dead = { selector: { queue: "emails" } };
    expect(((await call("jq.v1.AdminService/ListDeadLetters", dead)).jobs as unknown[]).length).toBe(1);
    expect(await call("jq.v1.AdminService/RequeueDeadLetters", dead)).toEqual({ requeuedCount: "1" });
    await call("jq.v1.JobService/CancelJob", { jobId: job.id });
    expect(await call("jq.v1.AdminService/PurgeDeadLetters", dead)).toEqual({ purgedCount: "1" });
    // RetryJob on a job that has not ended: a precise code, named by grpcurl.
    expect(await callFails("jq.v1.JobService/RetryJob", { jobId: (batch.results as { job: { id: string } }[])[0]!.job.id }))
      .toMatch(/Code: FailedPrecondition/);

    // WatchJob is a server stream: grpcurl prints each message; a cancelled job's stream ends.
    const other = (batch.results as { job: { id: string } }[])[1]!.job.id;
    await call("jq.v1.JobService/CancelJob", { jobId: other });
    const watched = await grpcurl("-d", JSON.stringify({ jobId: other }), api.address, "jq.v1.JobService/WatchJob");
    expect(watched).toContain("JOB_EVENT_TYPE_CANCELLED");

    expect(await call("jq.v1.AdminService/CreateSchedule", { name: "nightly", queue: "emails", cron: "0 3 * * *" }))
      .toMatchObject({ schedule: { name: "nightly", cron: "0 3 * * *" } });
    expect(JSON.stringify(await call("jq.v1.AdminService/ListSchedules", { queue: "emails" }))).toContain('"nightly"');
    expect(await call("jq.v1.AdminService/DeleteSchedule", { name: "nightly" })).toEqual({});
    // As the README shows it: no request body at all.
    const cluster = JSON.parse(await grpcurl(api.address, "jq.v1.AdminService/GetClusterStatus")) as { nodes: { role: string }[] };
    expect(cluster.nodes.map((n) => n.role)).toContain("NODE_ROLE_API");
    expect(await call("jq.v1.AdminService/DeleteQueue", { name: "emails", force: true })).toMatchObject({ deletedJobs: "2" });
    expect(await callFails("jq.v1.AdminService/GetQueue", { name: "emails" })).toMatch(/Code: NotFound/);
  });

  it("calls every WorkerService RPC", async () => {
    await call("jq.v1.AdminService/CreateQueue", { name: "work" });
    const registered = await call("jq.v1.WorkerService/RegisterWorker", { hostname: "grpcurl", queues: ["work"], concurrency: 2 });
    const workerId = (registered.worker as { id: string }).id;
    expect(workerId).toBeTruthy();
    // Every later call about the worker carries the secret its registration returned (docs/worker-protocol.md).
    const secret = [`jq-worker-secret: ${registered.workerSecret as string}`];
    expect(await call("jq.v1.WorkerService/Heartbeat", { workerId }, secret)).toBeTypeOf("object");
    expect(JSON.stringify(await call("jq.v1.AdminService/ListWorkers", { queue: "work" }))).toContain(workerId);
    const submitted = await call("jq.v1.JobService/SubmitJobs", { jobs: [{ queue: "work" }, { queue: "work" }] });
    const ids = (submitted.results as { job: { id: string } }[]).map((r) => r.job.id);
    // StreamJobs hands both jobs over; -max-time ends grpcurl's side of the open stream.
    const streamed = await grpcurl("-max-time", "3", "-H", secret[0]!, "-d", JSON.stringify({ workerId }), api.address, "jq.v1.WorkerService/StreamJobs")
      .catch((err: { stdout: string }) => err.stdout);
    const assignments = jsonObjects(streamed).map((m) => m.assignment as { jobId: string; attempt: number });
    expect(assignments.map((a) => a.jobId).sort()).toEqual([...ids].sort());
    const [first, second] = assignments as [{ jobId: string; attempt: number }, { jobId: string; attempt: number }];
    expect(await call("jq.v1.WorkerService/ReportResult", { workerId, result: { jobId: first.jobId, attempt: first.attempt, success: {} } }, secret))
      .toEqual({ jobStatus: "JOB_STATUS_DONE" });
    const acks = jsonObjects(await grpcurl("-H", secret[0]!, "-d", JSON.stringify({ sequence: 1, workerId, result: { jobId: second.jobId, attempt: second.attempt, success: {} } }),
      api.address, "jq.v1.WorkerService/ReportResults"));
    expect(acks).toEqual([expect.objectContaining({ sequence: "1", code: "RESULT_ACK_CODE_ACCEPTED" })]);
    expect(await call("jq.v1.AdminService/DrainWorker", { workerId })).toMatchObject({ worker: { id: workerId } });
    expect(await call("jq.v1.WorkerService/Deregister", { workerId }, secret)).toBeTypeOf("object");
    for (const id of ids) expect(await call("jq.v1.JobService/GetJobStatus", { jobId: id })).toMatchObject({ job: { status: "JOB_STATUS_DONE" } });
  });
});

/** grpcurl prints each message of a stream as an indented JSON object starting at column 0. */
function jsonObjects(out: string): Record<string, unknown>[] {
  return out.trim() === "" ? [] : out.trim().split(/\n(?=\{)/).map((text) => JSON.parse(text) as Record<string, unknown>);
}
