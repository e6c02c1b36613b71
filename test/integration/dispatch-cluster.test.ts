import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOBS_AVAILABLE_CHANNEL, parseJobsAvailable } from "../../libs/notifications/index.js";
import type { JqClient } from "../../libs/client/index.js";
import { JobStatus, TransitionReason } from "../../libs/proto/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";
import { jobRequest } from "../support/job-requests.js";
import { eventually } from "../support/eventually.js";

const job = jobRequest;

/** Two API replicas and a scheduler on one database: what only shows across processes. */
describe("dispatch across replicas, with the scheduler's sweeps", () => {
  let db: TestDatabase;
  let a: RunningApi;
  let b: RunningApi;
  let scheduler: AppProcess;
  let ca: JqClient;
  let cb: JqClient;
  const workers: RawWorker[] = [];
  const env = { JQ_HEARTBEAT_INTERVAL_MS: "200", JQ_HEARTBEAT_TIMEOUT_MS: "1500", JQ_DISPATCH_SWEEP_MS: "500" };
  /** The longest dispatch sweep the config accepts: longer than any test here. */
  const NO_SWEEP_MS = 600_000;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Started together: one after the other, three starts on a loaded machine overran the hook's limit.
    scheduler = startApp("scheduler", { JQ_DATABASE_URL: db.url, ...env });
    [a, b] = await Promise.all([startApi(db.url, env), startApi(db.url, env), scheduler.ready()]);
    ca = a.client();
    cb = b.client();
  });
  afterAll(async () => {
    for (const w of workers) w.close();
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    expect(await scheduler.stop()).toBe(0);
    await db.drop();
  });

  it("never exceeds a queue's max_concurrency with workers on both replicas (sampled)", async () => {
    await ca.call(ca.admin, "createQueue", { name: "limited", paused: false, settings: { maxConcurrency: 3 } });
    const ws = [await RawWorker.register(ca, ["limited"], 4), await RawWorker.register(ca, ["limited"], 4), await RawWorker.register(cb, ["limited"], 4), await RawWorker.register(cb, ["limited"], 4)];
    workers.push(...ws);
    ws.forEach((w) => w.open().beat(200));
    await ca.call(ca.jobs, "submitJobs", { jobs: Array.from({ length: 60 }, () => job("limited")) });
    let maxSeen = 0;
    let completed = 0;
    const reported = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (completed < 60 && Date.now() < deadline) {
      const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE queue = 'limited' AND status IN ('ASSIGNED', 'RUNNING')");
      maxSeen = Math.max(maxSeen, rows[0]!.n);
      // Each worker finishes what it holds, a little later, so slots turn over on both replicas.
      for (const w of ws) {
        for (const asg of w.assignments) {
          if (reported.has(asg.jobId)) continue;
          reported.add(asg.jobId);
          setTimeout(() => w.succeed(asg), 20);
        }
      }
      completed = (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE queue = 'limited' AND status = 'DONE'")).rows[0]!.n;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(completed).toBe(60);
    expect(maxSeen).toBeGreaterThan(0);
    expect(maxSeen).toBeLessThanOrEqual(3);
    // Which replica wins each freed slot is a race; the limit held whichever did.
    console.info(`max_concurrency 3: max held ${maxSeen}; jobs per worker A/A/B/B: ${ws.map((w) => w.assignments.length).join("/")}`);
  });

  it("refills a worker's slot by notification when its result arrives on the other replica, with no sweep to fall back on", async () => {
    // A third replica whose dispatch sweep never comes within the test: only the notification
    // replica B sends when it records the result can refill the slot of a stream held here.
    const c = await startApi(db.url, { ...env, JQ_DISPATCH_SWEEP_MS: String(NO_SWEEP_MS) });
    try {
      const cc = c.client();
      await cc.call(cc.admin, "createQueue", { name: "cross", paused: false });
      const w = await (await RawWorker.register(cc, ["cross"], 1)).opened();
      w.beat(200);
      workers.push(w);
      await cc.call(cc.jobs, "submitJobs", { jobs: [job("cross"), job("cross")] });
      await w.until(() => w.assignments.length === 1);
      const first = w.assignments[0]!;
      const started = Date.now();
      await cb.call(cb.workers, "reportResult", { workerId: w.id, result: { jobId: first.jobId, attempt: first.attempt, outcome: { $case: "success", value: { result: Buffer.alloc(0) } } } }, { headers: w.headers() });
      await w.until(() => w.assignments.length === 2, 10_000, "the refill");
      console.info(`refill through replica B's notification: ${Date.now() - started} ms`);
      w.close();
    } finally {
      expect(await c.stop()).toBe(0);
    }
  });

  it("a replica fills its own streams first: it announces a submit only when they could not take it all", async () => {
    // Two replicas with no dispatch sweep within the test, and a LISTEN of our own: what reaches
    // the other replica's worker can only have come through a NOTIFY.
    const [c, d] = await Promise.all([startApi(db.url, { ...env, JQ_DISPATCH_SWEEP_MS: String(NO_SWEEP_MS) }), startApi(db.url, { ...env, JQ_DISPATCH_SWEEP_MS: String(NO_SWEEP_MS) })]);
    const heard: string[] = [];
    const listener = new pg.Client({ connectionString: db.url });
    try {
      await listener.connect();
      listener.on("notification", (n) => heard.push(n.payload ?? ""));
      await listener.query(`LISTEN ${JOBS_AVAILABLE_CHANNEL}`);
      const cc = c.client();
      await cc.call(cc.admin, "createQueue", { name: "local-first", paused: false });
      const near = (await (await RawWorker.register(cc, ["local-first"], 3)).opened()).beat(200);
      const far = (await (await RawWorker.register(d.client(), ["local-first"], 5)).opened()).beat(200);
      workers.push(near, far);

      await cc.call(cc.jobs, "submitJobs", { jobs: [job("local-first"), job("local-first")] });
      await near.until(() => near.assignments.length === 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(heard.filter((p) => parseJobsAvailable(p).queue === "local-first")).toEqual([]);
      expect(far.assignments).toEqual([]);

      // The near worker has one slot left for three jobs: the replica tells the others, marked as its own.
      await cc.call(cc.jobs, "submitJobs", { jobs: [job("local-first"), job("local-first"), job("local-first")] });
      await far.until(() => far.assignments.length === 2, 10_000, "the far worker's jobs");
      expect(near.assignments).toHaveLength(3);
      // The NOTIFY reached the other replica before its claim, but this process reads the far
      // worker's stream and the listener's socket in whatever order they come ready: wait for it.
      const announced = () => heard.map(parseJobsAvailable).filter((n) => n.queue === "local-first");
      await expect.poll(() => announced().length, { timeout: 5_000 }).toBeGreaterThan(0);
      expect(announced().every((n) => n.origin !== undefined)).toBe(true);
      near.close();
      far.close();
    } finally {
      await listener.end();
      expect(await c.stop()).toBe(0);
      expect(await d.stop()).toBe(0);
    }
  });

  it("keeps handing a trickle of submits off through its dispatch sweeps", async () => {
    // A sweep forgets what the replica knew of its queues and claims for every stream. Neither may
    // cost a hand-off: a queue is only passed over when its last claim came back full, and a claim
    // holds half of a stream's free slots, not all. Before, a submit that came while a sweep's claim
    // ran (here, every 10 ms) went PENDING and took the slow way: a claim and a NOTIFY.
    const c = await startApi(db.url, { ...env, JQ_DISPATCH_SWEEP_MS: "10" });
    try {
      const cc = c.client();
      await cc.call(cc.admin, "createQueue", { name: "trickle", paused: false });
      const w = (await (await RawWorker.register(cc, ["trickle"], 200)).opened()).beat(200);
      workers.push(w);
      const statuses: JobStatus[] = [];
      for (let i = 0; i < 150; i++) {
        statuses.push((await cc.call(cc.jobs, "submitJob", job("trickle"))).job!.status);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(statuses.filter((s) => s !== JobStatus.ASSIGNED)).toEqual([]);
      await w.until(() => w.assignments.length === 150);
      w.close();
    } finally {
      expect(await c.stop()).toBe(0);
    }
  });

  it("a worker that stops heartbeating is declared lost: running jobs retried elsewhere, its stream closed", async () => {
    await ca.call(ca.admin, "createQueue", { name: "lost", paused: false, settings: { backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } } });
    const silent = (await RawWorker.register(ca, ["lost"], 2)).open();
    workers.push(silent);
    const { results } = await ca.call(ca.jobs, "submitJobs", { jobs: [job("lost"), job("lost")] });
    await silent.until(() => silent.assignments.length === 2);
    const reasons = async (jobId: string) => (await db.pool.query("SELECT reason FROM job_events WHERE job_id = $1 ORDER BY id", [jobId])).rows.map((e) => e.reason as string);
    // Both RUNNING (the delivery marks are written within a fraction of a heartbeat), so each is lost as a running job.
    for (const r of results) await eventually(`${r.job!.id} DELIVERED`, async () => (await reasons(r.job!.id)).includes("DELIVERED"));
    // No heartbeats from `silent`: after 1.5 s the scheduler declares it lost.
    await silent.until(() => silent.streamError !== undefined, 10_000, "its stream to be closed");
    const rescuer = (await RawWorker.register(cb, ["lost"], 2)).open().beat(200);
    workers.push(rescuer);
    await rescuer.until(() => rescuer.assignments.length === 2, 10_000);
    for (const r of results) {
      // The rescuer's claim is logged with its RUNNING mark (docs/write-path.md, "The deferred CLAIMED event").
      await eventually(`${r.job!.id} DELIVERED again`, async () => (await reasons(r.job!.id)).length >= 7);
      expect((await reasons(r.job!.id)).slice(0, 7)).toEqual(["SUBMITTED", "CLAIMED", "DELIVERED", "WORKER_LOST", "RETRY_SCHEDULED", "CLAIMED", "DELIVERED"]);
    }
    expect((await ca.call(ca.admin, "listWorkers", { queue: "lost", statuses: [], pageSize: 0, pageToken: "" })).workers.find((x) => x.id === silent.id)?.status).toBe(3);
  });

  it("a job past its execution timeout fails with TIMEOUT, the worker is told to abort, and it is retried", async () => {
    await ca.call(ca.admin, "createQueue", { name: "slow", paused: false, settings: { backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } } });
    const w = (await RawWorker.register(ca, ["slow"], 1)).open().beat(200);
    workers.push(w);
    {
      const { job: j } = await ca.call(ca.jobs, "submitJob", job("slow", { timeout: { seconds: "1", nanos: 0 } }));
      await w.until(() => w.assignments.length === 1);
      expect(w.assignments[0]!.deadline!.getTime()).toBeGreaterThan(Date.now());
      await w.until(() => w.cancellations.length === 1, 10_000, "the timeout cancellation");
      expect(w.cancellations[0]).toMatchObject({ jobId: j!.id, attempt: 1, reason: TransitionReason.TIMEOUT });
      await w.until(() => w.assignments.length === 2, 10_000, "the retry");
      expect(w.assignments[1]!.attempt).toBe(2);
      const status = (await ca.call(ca.jobs, "getJobStatus", { jobId: j!.id, view: 0 })).job!;
      expect([JobStatus.ASSIGNED, JobStatus.RUNNING]).toContain(status.status);
      expect(status.attempt).toBe(2);
    }
  });
});
