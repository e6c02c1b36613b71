import { spawn } from "node:child_process";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { claimJobs, markDelivered } from "../../libs/dispatch/index.js";
import { Worker } from "../../libs/worker-sdk/index.js";
import { ResultAckCode } from "../../libs/proto/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { readJsonLines } from "../support/json-lines.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { ensurePythonVenv, repoRoot } from "../support/python-sdk.js";
import { RawWorker } from "../support/raw-worker.js";

/**
 * Issue 13 item 8: a heartbeat that lists everything its worker holds (`held_jobs_complete`) is
 * reconciled with the jobs the database gives that worker. A delivery missing from two such
 * heartbeats in a row, with no result in flight, is released as the lifecycle table says for a
 * lost worker; a worker that sends no complete list is never reconciled. And when a worker's
 * stream moves to another replica, the old replica closing it leaves the row on the new one.
 */
const GRACE_MS = 1500;

describe("heartbeat reconciliation of held jobs, and the stream's replica", () => {
  let db: TestDatabase;
  let a: RunningApi;
  let b: RunningApi;
  let c: JqClient;
  const workers: RawWorker[] = [];
  let n = 0;

  const queue = async () => {
    const name = `rq${++n}`;
    await c.call(c.admin, "createQueue", { name, paused: false, settings: { backoffBase: { seconds: "0", nanos: 1e6 }, backoffMax: { seconds: "0", nanos: 1e6 } } });
    return name;
  };
  const worker = async (q: string, concurrency: number) => {
    const w = (await RawWorker.register(c, [q], concurrency)).open();
    workers.push(w);
    return w;
  };
  const heartbeat = (w: RawWorker, held: { jobId: string; attempt: number }[], complete: boolean) =>
    c.call(c.workers, "heartbeat", { workerId: w.id, heldJobs: held, heldJobsComplete: complete }, { headers: w.headers() });
  const job = async (id: string) =>
    (await db.pool.query<{ status: string; attempt: number; worker_id: string | null }>("SELECT status, attempt, worker_id FROM jobs WHERE id = $1", [id])).rows[0]!;
  const reasons = async (id: string) =>
    (await db.pool.query<{ r: string }>("SELECT coalesce(from_status::text, '') || '>' || to_status || ':' || reason AS r FROM job_events WHERE job_id = $1 ORDER BY id", [id])).rows.map((e) => e.r);
  const until = async (check: () => Promise<boolean>, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  /** Submits a job and waits until the worker has it and the database shows it RUNNING. */
  const runningJob = async (q: string, w: RawWorker) => {
    const { job: j } = await c.call(c.jobs, "submitJob", jobRequest(q));
    await w.until(() => w.assignments.some((x) => x.jobId === j!.id));
    await until(async () => (await job(j!.id)).status === "RUNNING", "the RUNNING mark");
    return w.assignments.find((x) => x.jobId === j!.id)!;
  };

  /** A delivery the database gives `workerId` that never reached it (as on a replaced stream), made with the dispatcher's own claim and RUNNING mark. */
  const plantLostDelivery = async (workerId: string) => {
    const elsewhere = await queue();
    const { job: lost } = await c.call(c.jobs, "submitJob", jobRequest(elsewhere));
    const [claimed] = await claimJobs(db.pool, { workerId, queues: [elsewhere], limit: 1, leaseMs: 30_000 }, new Set());
    expect(claimed!.id).toBe(lost!.id);
    await markDelivered(db.pool, [{ jobId: lost!.id, attempt: claimed!.attempt, workerId, deliveredAt: new Date() }]);
    expect(await job(lost!.id)).toMatchObject({ status: "RUNNING", worker_id: workerId });
    return lost!.id;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // The heartbeat timeout is also how long a delivery must be missing before it is released.
    const env = { JQ_HEARTBEAT_INTERVAL_MS: "1000", JQ_HEARTBEAT_TIMEOUT_MS: String(GRACE_MS) };
    [a, b] = await Promise.all([startApi(db.url, { ...env, JQ_NODE_ID: "replica-a" }), startApi(db.url, { ...env, JQ_NODE_ID: "replica-b" })]);
    c = a.client();
  });
  afterEach(() => {
    for (const w of workers.splice(0)) w.close();
  });
  afterAll(async () => {
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    await db.drop();
  });

  it("releases a RUNNING job the worker no longer holds once missing from two heartbeats for the heartbeat timeout", async () => {
    const q = await queue();
    const w = await worker(q, 1);
    const lost = await runningJob(q, w);

    const firstMissing = Date.now();
    await heartbeat(w, [], true);
    expect(await job(lost.jobId)).toMatchObject({ status: "RUNNING", attempt: 1 });
    // Missing twice, but not yet for the grace: kept (it may still be on its way).
    await heartbeat(w, [], true);
    expect(await job(lost.jobId)).toMatchObject({ status: "RUNNING", attempt: 1 });
    // Heartbeats go on leaving it out: it is released once it has been missing for the grace.
    let releasedAt: number | undefined;
    while (releasedAt === undefined) {
      await new Promise((r) => setTimeout(r, 200));
      await heartbeat(w, [], true);
      if ((await reasons(lost.jobId)).includes("RUNNING>FAILED:WORKER_LOST")) releasedAt = Date.now();
      else expect(Date.now() - firstMissing, "released within the grace and a few heartbeats").toBeLessThan(GRACE_MS + 8000);
    }
    expect(releasedAt - firstMissing).toBeGreaterThanOrEqual(GRACE_MS);
    // RUNNING → FAILED (WORKER_LOST) → PENDING with a retry; the worker's free slot takes it again.
    expect((await reasons(lost.jobId)).slice(3, 5)).toEqual(["RUNNING>FAILED:WORKER_LOST", "FAILED>PENDING:RETRY_SCHEDULED"]);
    await w.until(() => w.assignments.some((x) => x.jobId === lost.jobId && x.attempt === 2), 10_000, "the job again");
  });

  it("keeps a job the heartbeats list, and one listed again after one absence", async () => {
    const q = await queue();
    const w = await worker(q, 2);
    const kept = await runningJob(q, w);
    const back = await runningJob(q, w);
    const ref = (x: { jobId: string; attempt: number }) => ({ jobId: x.jobId, attempt: x.attempt });
    await heartbeat(w, [ref(kept)], true);
    await new Promise((r) => setTimeout(r, GRACE_MS + 600));
    await heartbeat(w, [ref(kept), ref(back)], true);
    await heartbeat(w, [ref(kept)], true);
    expect(await job(kept.jobId)).toMatchObject({ status: "RUNNING", attempt: 1 });
    expect(await job(back.jobId)).toMatchObject({ status: "RUNNING", attempt: 1 });
    expect(await reasons(back.jobId)).not.toContain("RUNNING>FAILED:WORKER_LOST");
  });

  it("never releases a job whose result is queued on the replica, even when the heartbeats leave it out", async () => {
    const q = await queue();
    const w = await worker(q, 2);
    const blocked = await runningJob(q, w);
    const queued = await runningJob(q, w);
    // Hold the first result's write on a row lock, so the second result waits in the replica's
    // ResultBatcher (one write in flight at a time): a result in flight the worker does not list.
    const lock: pg.PoolClient = await db.pool.connect();
    try {
      await lock.query("BEGIN");
      await lock.query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", [blocked.jobId]);
      const first = w.succeed(blocked);
      await until(
        async () => (await db.pool.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rowCount! > 0,
        "the first result to wait on the lock",
      );
      const second = w.succeed(queued);
      await new Promise((r) => setTimeout(r, 200));
      await heartbeat(w, [{ jobId: blocked.jobId, attempt: 1 }], true);
      await new Promise((r) => setTimeout(r, GRACE_MS + 600));
      await heartbeat(w, [{ jobId: blocked.jobId, attempt: 1 }], true);
      expect(await reasons(queued.jobId)).not.toContain("RUNNING>FAILED:WORKER_LOST");
      await lock.query("COMMIT");
      expect((await w.ackOf(first)).code).toBe(ResultAckCode.ACCEPTED);
      expect((await w.ackOf(second)).code).toBe(ResultAckCode.ACCEPTED);
      expect(await job(queued.jobId)).toMatchObject({ status: "DONE", attempt: 1 });
    } finally {
      await lock.query("ROLLBACK").catch(() => {});
      lock.release();
    }
  });

  it("leaves a worker that sends no complete list alone", async () => {
    const q = await queue();
    const w = await worker(q, 1);
    const running = await runningJob(q, w);
    await heartbeat(w, [], false);
    await new Promise((r) => setTimeout(r, GRACE_MS + 600));
    await heartbeat(w, [], false);
    expect(await job(running.jobId)).toMatchObject({ status: "RUNNING", attempt: 1, worker_id: w.id });
    expect(await reasons(running.jobId)).not.toContain("RUNNING>FAILED:WORKER_LOST");
  });

  it("the TypeScript SDK lists what it holds: a job it never received is released, the ones it runs are not", async () => {
    const q = await queue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sdk = new Worker({ address: a.address, queues: [q], concurrency: 2, handler: async () => (await gate, "ok") });
    await sdk.start();
    try {
      const { job: kept } = await c.call(c.jobs, "submitJob", jobRequest(q));
      await until(async () => (await job(kept!.id)).status === "RUNNING", "the SDK's job RUNNING");
      const lost = await plantLostDelivery(sdk.id!);
      // Heartbeats every second: released within a few.
      await until(async () => (await reasons(lost)).includes("RUNNING>FAILED:WORKER_LOST"), "the lost job released", 8000);
      expect(await job(kept!.id)).toMatchObject({ status: "RUNNING", worker_id: sdk.id });
      release();
      await until(async () => (await job(kept!.id)).status === "DONE", "the SDK's job DONE");
      expect(await reasons(kept!.id)).not.toContain("RUNNING>FAILED:WORKER_LOST");
    } finally {
      release();
      await sdk.close();
    }
  });

  it("the Python SDK lists what it holds: a job it never received is released, the one it runs is not", async () => {
    const venv = await ensurePythonVenv();
    const q = await queue();
    const child = spawn(`${venv}/bin/python`, [`${repoRoot}sdk/python/tests/fixtures/worker_main.py`], {
      env: { PATH: process.env.PATH ?? "", JQ_FIXTURE_ADDRESS: a.address, JQ_FIXTURE_QUEUE: q, JQ_FIXTURE_CONCURRENCY: "1", JQ_FIXTURE_JOB_SECONDS: "10" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: Record<string, unknown>[] = [];
    readJsonLines(child.stdout, (l) => lines.push(l));
    const exited = new Promise((r) => child.once("exit", r));
    try {
      await until(async () => lines.some((l) => l.event === "ready"), "the Python worker ready", 30_000);
      const workerId = lines.find((l) => l.event === "ready")!.worker as string;
      const { job: kept } = await c.call(c.jobs, "submitJob", jobRequest(q));
      await until(async () => lines.some((l) => l.event === "started" && l.job === kept!.id) && (await job(kept!.id)).status === "RUNNING", "its job RUNNING");
      const lost = await plantLostDelivery(workerId);
      await until(async () => (await reasons(lost)).includes("RUNNING>FAILED:WORKER_LOST"), "the lost job released", 8000);
      expect(await job(kept!.id)).toMatchObject({ status: "RUNNING", worker_id: workerId });
      await until(async () => (await job(kept!.id)).status === "DONE", "its job DONE", 20_000);
      expect(await reasons(kept!.id)).not.toContain("RUNNING>FAILED:WORKER_LOST");
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, 120_000);

  it("a stream that moved to replica B stays on B when replica A closes the old one", async () => {
    const q = await queue();
    const onA = await worker(q, 1);
    const node = async () => (await db.pool.query<{ node_id: string | null }>("SELECT node_id FROM workers WHERE worker_id = $1", [onA.id])).rows[0]!.node_id;
    await until(async () => (await node()) === "replica-a", "the stream on A");
    const cb = b.client();
    const onB = new (RawWorker as unknown as { new (c: JqClient, id: string, secret: string): RawWorker })(cb, onA.id, onA.secret).open();
    workers.push(onB);
    await until(async () => (await node()) === "replica-b", "the stream on B");

    // A ends its (replaced) stream; wait until A has finished with it (its StreamJobs call is counted).
    const metricsA = `http://127.0.0.1:${await a.app.ready()}/metrics`;
    const streamsEnded = async () =>
      [...(await (await fetch(metricsA)).text()).matchAll(/^jq_grpc_requests_total\{[^}]*method="StreamJobs"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    const before = await streamsEnded();
    onA.close();
    await until(async () => (await streamsEnded()) > before, "A to end the old stream");
    expect(await node()).toBe("replica-b");

    // B serves the worker.
    const { job: j } = await c.call(c.jobs, "submitJob", jobRequest(q));
    await onB.until(() => onB.assignments.some((x) => x.jobId === j!.id));
  });
});
