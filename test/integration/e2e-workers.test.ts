import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { claimJobs } from "../../libs/dispatch/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";
import { UNRELAYED } from "../support/event-log.js";
import { eventually } from "../support/eventually.js";

/**
 * End to end with real processes: two API replicas, a scheduler, and worker processes running the
 * TypeScript SDK, against one Postgres.
 */
describe("end to end: SDK workers on two API replicas", () => {
  let db: TestDatabase;
  let a: RunningApi;
  let b: RunningApi;
  let scheduler: AppProcess;
  let c: JqClient;
  const workers: WorkerProcess[] = [];
  // A 2 s heartbeat timeout declared CPU-starved workers lost under load (2,008 handler runs for
  // 2,000 jobs): 6 s still finds a SIGKILLed worker well within the tests' deadlines.
  const env = { JQ_HEARTBEAT_INTERVAL_MS: "300", JQ_HEARTBEAT_TIMEOUT_MS: "6000" };

  const countDone = async (queue: string) =>
    (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE queue = $1 AND status = 'DONE'", [queue])).rows[0]!.n;
  const waitDone = (queue: string, n: number, timeoutMs: number) => eventually(`${n} jobs of ${queue} DONE`, async () => (await countDone(queue)) >= n, timeoutMs, 100);
  const worker = (api: RunningApi, queues: string[], concurrency: number, jobMs = 0, closeTimeoutMs?: number) => {
    const w = startWorkerProcess({ address: api.address, queues, concurrency, jobMs, ...(closeTimeoutMs === undefined ? {} : { closeTimeoutMs }) });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startApi(db.url, env);
    b = await startApi(db.url, env);
    scheduler = startApp("scheduler", { JQ_DATABASE_URL: db.url, ...env });
    await scheduler.ready();
    c = a.client();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited()));
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    expect(await scheduler.stop()).toBe(0);
    await db.drop();
  });

  it("runs 2,000 jobs across 4 workers on both replicas, each DONE exactly once with its events in order", async () => {
    await c.call(c.admin, "createQueue", { name: "bulk", paused: false });
    const ws = [worker(a, ["bulk"], 8), worker(a, ["bulk"], 8), worker(b, ["bulk"], 8), worker(b, ["bulk"], 8)];
    await Promise.all(ws.map((w) => w.ready()));
    for (let i = 0; i < 4; i++) await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 500 }, () => jobRequest("bulk")) });
    await waitDone("bulk", 2000, 150_000); // a deadline, not a throughput bound (bench/ measures that)

    const done = ws.flatMap((w) => w.done());
    expect(done).toHaveLength(2000);
    expect(new Set(done.map((d) => d.job)).size).toBe(2000);
    // Every worker, so both replicas, did part of the work.
    for (const w of ws) expect(w.done().length).toBeGreaterThan(0);

    const { rows } = await db.pool.query<{ job_id: string; reasons: string[] }>(
      `SELECT e.job_id, array_agg(e.reason ORDER BY e.id) AS reasons
       FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.queue = 'bulk' GROUP BY e.job_id`,
    );
    expect(rows).toHaveLength(2000);
    for (const r of rows) expect(r.reasons).toEqual(["SUBMITTED", "CLAIMED", "DELIVERED", "SUCCEEDED"]);
    const outbox = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.queue = 'bulk' AND ${UNRELAYED}`,
    );
    expect(outbox.rows[0]!.n).toBe(8000);
  }, 180_000);

  it("runs a job whose replica died between claim and delivery: the scheduler hands it back when the lease passes", async () => {
    await c.call(c.admin, "createQueue", { name: "stranded", paused: false });
    // The state a replica killed right after its claim leaves: ASSIGNED to a worker whose stream
    // was on that replica, with a delivery lease, and nothing written to any stream.
    const { worker: gone } = await c.call(c.workers, "registerWorker", { workerId: "", hostname: "dead-replica", sdkVersion: "t", queues: ["stranded"], concurrency: 1, labels: {} });
    const { job } = await c.call(c.jobs, "submitJob", jobRequest("stranded"));
    const [claimed] = await claimJobs(db.pool, { workerId: gone!.id, queues: ["stranded"], limit: 1, leaseMs: 500 }, new Set());
    expect(claimed?.id).toBe(job!.id);

    const rescuer = worker(b, ["stranded"], 1, 0);
    await rescuer.ready();
    await waitDone("stranded", 1, 15_000);
    expect(rescuer.done().map((d) => d.job)).toEqual([job!.id]);
    const { rows } = await db.pool.query("SELECT reason, worker_id FROM job_events WHERE job_id = $1 ORDER BY id", [job!.id]);
    expect(rows.map((e) => e.reason)).toEqual(["SUBMITTED", "CLAIMED", "LEASE_EXPIRED", "CLAIMED", "DELIVERED", "SUCCEEDED"]);
    expect(rows[2]!.worker_id).toBe(gone!.id);
    // No retry was used for the delivery that never happened.
    expect((await db.pool.query("SELECT retry_count FROM jobs WHERE id = $1", [job!.id])).rows[0].retry_count).toBe(0);
  });

  it("runs again elsewhere the jobs of a worker killed with SIGKILL mid-job", async () => {
    await c.call(c.admin, "createQueue", { name: "crash", paused: false, settings: { backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } } });
    const victim = worker(a, ["crash"], 4, 60_000);
    await victim.ready();
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 4 }, () => jobRequest("crash")) });
    await eventually("4 jobs started at the victim", () => victim.started().length >= 4, 10_000, 25);
    expect(victim.started()).toHaveLength(4);
    victim.kill("SIGKILL");
    await victim.exited();

    const rescuer = worker(b, ["crash"], 4, 10);
    await rescuer.ready();
    await waitDone("crash", 4, 20_000);
    expect(new Set(rescuer.done().map((d) => d.job))).toEqual(new Set(results.map((r) => r.job!.id)));
    for (const r of results) {
      const { rows } = await db.pool.query("SELECT reason FROM job_events WHERE job_id = $1 ORDER BY id", [r.job!.id]);
      expect(rows.map((e) => e.reason)).toEqual([
        "SUBMITTED", "CLAIMED", "DELIVERED", "WORKER_LOST", "RETRY_SCHEDULED", "CLAIMED", "DELIVERED", "SUCCEEDED",
      ]);
    }
  });

  it("runs again elsewhere the jobs of a worker that deregisters before finishing them", async () => {
    await c.call(c.admin, "createQueue", { name: "leave", paused: false, settings: { backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } } });
    const leaver = worker(b, ["leave"], 3, 60_000, 200);
    await leaver.ready();
    const { results } = await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 3 }, () => jobRequest("leave")) });
    await eventually("3 jobs started at the leaver", () => leaver.started().length >= 3, 10_000, 25);
    // SIGTERM: the SDK stops taking jobs, gives up on its handlers after 200 ms, and deregisters.
    leaver.kill("SIGTERM");
    expect(await leaver.exited()).toBe(0);

    const other = worker(a, ["leave"], 3, 10);
    await other.ready();
    await waitDone("leave", 3, 20_000);
    expect(new Set(other.done().map((d) => d.job))).toEqual(new Set(results.map((r) => r.job!.id)));
    // Handed back by Deregister itself, not by the scheduler's lost-worker sweep.
    const { rows } = await db.pool.query<{ message: string }>(
      "SELECT message FROM job_events WHERE job_id = ANY($1::uuid[]) AND reason = 'WORKER_LOST'",
      [results.map((r) => r.job!.id)],
    );
    expect(rows.map((r) => r.message)).toEqual(Array(3).fill("worker deregistered with the job unfinished"));
  });
});
