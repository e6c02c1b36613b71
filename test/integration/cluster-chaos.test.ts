import fs from "node:fs";
import os from "node:os";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { clusterEnv, startNode, startPrivateServices, type ClusterNode, type PrivateServices } from "../support/chaos-cluster.js";
import { checkJobs, checkTopic } from "../support/chaos-invariants.js";
import { CLIENT_KEEPALIVE, SteadyLoad } from "../support/chaos-load.js";
import { UNRELAYED } from "../support/event-log.js";
import { uniqueTopicName } from "../support/kafka.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

/**
 * Issue 13 item 10: the real cluster (2 api replicas, 2 schedulers, health; private Postgres, Redis
 * and Kafka) under a steady load of idempotent jobs run by SDK worker processes, while the test
 * SIGKILLs an api replica, the scheduler leader and a worker, restarts Postgres, Redis and the
 * Kafka broker, and SIGSTOPs a replica for 10 s. Then: every job DONE with one outcome, executed
 * once per attempt, its Kafka events complete and in order; no process died that was not killed.
 * It prints the heal times (docs/operations.md). `npm test` runs the short size; `npm run
 * test:chaos` the full one (JQ_TEST_CHAOS=full).
 */
const FULL = process.env.JQ_TEST_CHAOS === "full";
const SIZE = FULL
  ? { jobs: 3000, batch: 20, spreadMs: 90_000, gapMs: 3_000, workers: 3, jobMs: 100, restartKafka: true, timeoutMs: 600_000 }
  : // Inside `npm test`: no Kafka restart (the slowest fault; redis-kafka-faults.test.ts has one).
    { jobs: 300, batch: 10, spreadMs: 40_000, gapMs: 1_500, workers: 3, jobMs: 100, restartKafka: false, timeoutMs: 240_000 };
const LEASE_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 3_000;
const SERVER_KEEPALIVE_MS = 2_000;
const FREEZE_MS = 10_000;

describe(`chaos: the whole cluster under load through every fault (${FULL ? "full" : "short"})`, () => {
  let services: PrivateServices;
  let pool: pg.Pool;
  let load: SteadyLoad | undefined;
  const topic = uniqueTopicName("chaos");
  const apis: ClusterNode[] = [];
  const schedulers: ClusterNode[] = [];
  const others: ClusterNode[] = [];
  const workers: WorkerProcess[] = [];
  const killedWorkers = new Set<WorkerProcess>();
  const nodes = () => [...apis, ...schedulers, ...others];

  beforeAll(async () => {
    services = await startPrivateServices();
    const env = clusterEnv(services, topic, {
      JQ_LEADER_LEASE_MS: String(LEASE_MS),
      JQ_HEARTBEAT_INTERVAL_MS: "500",
      JQ_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
      JQ_ASSIGNMENT_LEASE_MS: "3000",
      JQ_SWEEP_INTERVAL_MS: "250",
      JQ_OUTBOX_POLL_MS: "100",
      JQ_PRESENCE_INTERVAL_MS: "1000",
      JQ_GRPC_KEEPALIVE_TIME_MS: String(SERVER_KEEPALIVE_MS),
      JQ_GRPC_KEEPALIVE_TIMEOUT_MS: "2000",
    });
    apis.push(await startNode("api-1", "api", env));
    apis.push(await startNode("api-2", "api", env));
    schedulers.push(...(await Promise.all([startNode("sched-1", "scheduler", env), startNode("sched-2", "scheduler", env)])));
    others.push(await startNode("health-1", "health", env));
    pool = new pg.Pool({ connectionString: services.postgres.endpoint, max: 2 });
    pool.on("error", () => {}); // Postgres restarts under this pool too.
    const admin = new JqClient({ address: apis[0]!.address });
    const fast = { seconds: "0", nanos: 10_000_000 };
    await admin.call(admin.admin, "createQueue", { name: "chaos", paused: false, settings: { maxRetries: 50, backoffBase: fast, backoffMax: fast } });
    admin.close();
    for (let i = 0; i < SIZE.workers; i++) await startWorker();
  }, 180_000);

  afterAll(async () => {
    // Every process's JSON log, for reading a run after the fact.
    const dir = `test-results/chaos-logs/${new Date().toISOString().replace(/[:.]/g, "-")}`;
    fs.mkdirSync(dir, { recursive: true });
    for (const n of nodes()) fs.writeFileSync(`${dir}/${n.name}.jsonl`, n.history.flatMap((p) => p.logs.map((l) => JSON.stringify(l))).join("\n"));
    await load?.stop();
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited()));
    for (const n of nodes()) n.current.child.kill("SIGCONT");
    await Promise.all(nodes().map((n) => n.current.stop()));
    await pool?.end();
    await services?.stop();
  });

  const address = () => `ipv4:${apis.map((a) => a.address).join(",")}`;
  async function startWorker(): Promise<WorkerProcess> {
    const w = startWorkerProcess({ address: address(), queues: ["chaos"], concurrency: 4, jobMs: SIZE.jobMs, closeTimeoutMs: 2_000 });
    workers.push(w);
    await w.ready(30_000);
    return w;
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 50) => {
    const started = performance.now();
    while (!(await ok())) {
      if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await sleep(everyMs);
    }
    return Math.round(performance.now() - started);
  };
  const leads = async (s: ClusterNode) => ((await s.probe("/readyz", 500))?.body.details as { leader?: boolean } | undefined)?.leader === true;
  /** The term of the scheduler that says it leads, if one does. */
  const leaderTerm = async () => {
    for (const s of schedulers) {
      const details = (await s.probe("/readyz", 500))?.body.details as { leader?: boolean; term?: string | null } | undefined;
      if (details?.leader === true && details.term) return BigInt(details.term);
    }
    return undefined;
  };
  /** What a run that did not finish left: each unfinished job with its events and who ran it. */
  const describeStuckJobs = async () => {
    const { rows } = await pool.query<{ id: string; status: string; attempt: number; worker_id: string | null; updated_at: Date }>(
      "SELECT id, status::text, attempt, worker_id, updated_at FROM jobs WHERE status <> 'DONE' ORDER BY id LIMIT 10",
    );
    const lines = [`${await count("SELECT count(*)::int AS n FROM jobs WHERE status <> 'DONE'")} jobs not DONE`];
    for (const j of rows) {
      const events = await pool.query<{ reason: string; worker_id: string | null; attempt: number; created_at: Date }>(
        "SELECT reason, worker_id, attempt, created_at FROM job_events WHERE job_id = $1 ORDER BY id",
        [j.id],
      );
      const worker = j.worker_id === null ? [] : (await pool.query("SELECT status::text, node_id, last_heartbeat FROM workers WHERE worker_id = $1", [j.worker_id])).rows;
      const seen = workers.flatMap((w, i) => w.lines.filter((l) => l.job === j.id).map((l) => `w${i}:${String(l.event)}#${String(l.attempt)}`));
      lines.push(
        `${j.id} ${j.status} attempt ${j.attempt} worker ${j.worker_id} ${JSON.stringify(worker)} since ${j.updated_at.toISOString()}; ` +
          `events ${events.rows.map((e) => `${e.reason}#${e.attempt}@${e.created_at.toISOString().slice(11, 23)}`).join(" ")}; workers saw ${seen.join(" ")}`,
      );
    }
    return lines.join("\n");
  };
  const count = async (sql: string, params: unknown[] = []) => (await pool.query<{ n: number }>(sql, params)).rows[0]!.n;

  it(`keeps every job, outcome and event through api, leader, worker, Postgres, Redis${SIZE.restartKafka ? ", Kafka" : ""} faults and a frozen replica`, async () => {
    const heal: Record<string, unknown> = {};
    const marks: string[] = [];
    const t0 = performance.now();
    const mark = (what: string) => marks.push(`${((performance.now() - t0) / 1000).toFixed(1)} s (${new Date().toISOString().slice(11, 23)}) ${what}`);
    load = new SteadyLoad({ addresses: apis.map((a) => a.address), queue: "chaos", total: SIZE.jobs, batch: SIZE.batch, spreadMs: SIZE.spreadMs }).start();
    await sleep(SIZE.gapMs);

    // 1. SIGKILL an api replica: calls move to the other one; it comes back on the same port.
    let t = performance.now();
    mark("SIGKILL api-1");
    await apis[0]!.kill();
    await sleep(3_000);
    heal.apiKillLongestFailedCallsMs = Math.round(load.longestFailureRun(t, performance.now()).ms);
    await apis[0]!.restart();
    await sleep(SIZE.gapMs);

    // 2. SIGKILL the scheduler leader: the other takes over within the lease.
    await until("a scheduler leads", async () => (await Promise.all(schedulers.map(leads))).some(Boolean));
    const leader = (await leads(schedulers[0]!)) ? schedulers[0]! : schedulers[1]!;
    const standby = schedulers.find((s) => s !== leader)!;
    mark(`SIGKILL leader ${leader.name}`);
    await leader.kill();
    heal.leaderFailoverMs = await until("the standby leads", () => leads(standby), 30_000, 25);
    await leader.restart();
    await sleep(SIZE.gapMs);

    // 3. SIGKILL a worker holding jobs: they go back to PENDING once its heartbeat times out.
    const ids = await Promise.all(workers.map((w) => w.ready()));
    let victim: WorkerProcess | undefined;
    let asked = performance.now();
    await until("a worker holds jobs", async () => {
      // On a slow machine the paced load may be over by now: then give the workers something to hold.
      if (performance.now() - asked > 2_000) {
        asked = performance.now();
        await load!.submitMore(12);
      }
      // ASSIGNED too: a job shorter than the delivery mark's delay goes from ASSIGNED to DONE.
      const { rows } = await pool.query<{ worker_id: string }>("SELECT worker_id FROM jobs WHERE status IN ('ASSIGNED', 'RUNNING') AND worker_id = ANY($1::uuid[]) LIMIT 1", [ids]);
      victim = rows[0] === undefined ? undefined : workers[ids.indexOf(rows[0].worker_id)];
      return victim !== undefined && !killedWorkers.has(victim);
    });
    const victimId = ids[workers.indexOf(victim!)]!;
    mark(`SIGKILL worker ${victimId}`);
    killedWorkers.add(victim!);
    victim!.kill("SIGKILL");
    t = performance.now();
    await victim!.exited();
    const heldSql = "SELECT count(*)::int AS n FROM jobs WHERE worker_id = $1 AND status IN ('ASSIGNED', 'RUNNING')";
    heal.deadWorkerJobs = await count(heldSql, [victimId]);
    await until("the dead worker's jobs are handed back", async () => (await count(heldSql, [victimId])) === 0, 30_000, 25);
    heal.deadWorkerJobsBackToPendingMs = Math.round(performance.now() - t);
    await startWorker();
    await sleep(SIZE.gapMs);

    // 4. Restart Postgres.
    mark("restart Postgres");
    await services.postgres.stopServer();
    await sleep(1_000);
    await services.postgres.startServer();
    heal.postgresApisReadyAfterServerUpMs = await until("every api ready after the Postgres restart", async () => (await Promise.all(apis.map((a) => a.probe("/readyz")))).every((r) => r?.status === 200));
    await sleep(SIZE.gapMs);

    // 5. Restart Redis (no persistence: the lock and term counter are gone, so a new term is due).
    const termBefore = await leaderTerm();
    mark(`restart Redis (leader term ${termBefore})`);
    await services.redis.stopServer("SIGKILL");
    await sleep(1_000);
    t = performance.now();
    await services.redis.startServer();
    await until("a new leader term after the Redis restart", async () => ((await leaderTerm()) ?? 0n) > (termBefore ?? 0n), 30_000, 25);
    heal.redisRestartedToNewLeaderTermMs = Math.round(performance.now() - t);
    mark(`leader term ${await leaderTerm()}`);
    await sleep(SIZE.gapMs);

    // 6. Restart the Kafka broker (a crash: SIGKILL).
    if (SIZE.restartKafka) {
      mark("restart Kafka");
      await services.kafka.stopServer("SIGKILL");
      await sleep(1_000);
      await services.kafka.startServer();
      await sleep(SIZE.gapMs);
    }

    // 7. Freeze an api replica for 10 s: keepalive moves clients and workers to the other.
    mark("SIGSTOP api-2");
    t = performance.now();
    apis[1]!.signal("SIGSTOP");
    await sleep(FREEZE_MS);
    apis[1]!.signal("SIGCONT");
    mark("SIGCONT api-2");
    await sleep(3_000);
    heal.freezeLongestFailedCallsMs = Math.round(load.longestFailureRun(t, performance.now()).ms);

    // The end: everything submitted, run, and relayed.
    await load.finished();
    mark(`all ${load.jobs.size} jobs submitted`);
    await until("every job DONE", async () => (await count("SELECT count(*)::int AS n FROM jobs WHERE status <> 'DONE'")) === 0, 180_000, 250).catch(async (err: Error) => {
      throw new Error(`${err.message}; ${await describeStuckJobs()}`);
    });
    await until("the outbox relayed", async () => (await count(`SELECT count(*)::int AS n FROM job_events e WHERE ${UNRELAYED}`)) === 0, 120_000, 250);
    mark("all DONE and relayed");
    heal.calls = load.calls.length;
    heal.failedCalls = load.calls.filter((c) => c.code !== undefined).length;
    heal.failureCodes = [...load.failureCodes()];
    heal.loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(" ");
    heal.targets = { leaseMs: LEASE_MS, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, clientKeepaliveMs: CLIENT_KEEPALIVE.timeMs + CLIENT_KEEPALIVE.timeoutMs };
    console.log(`chaos (${FULL ? "full" : "short"}, ${SIZE.jobs} jobs):\n  ${marks.join("\n  ")}\nheal times: ${JSON.stringify(heal, null, 2)}`);

    const starts = workers.flatMap((w) => w.started());
    const verdict = await checkJobs(pool, [...load.jobs.values()], starts);
    expect(load.jobs.size).toBeGreaterThanOrEqual(SIZE.jobs);
    expect(verdict.jobs).toBe(load.jobs.size);
    expect(verdict.notDone).toEqual([]);
    expect(verdict.outcomes).toEqual([]);
    expect(verdict.executions).toEqual([]);
    expect(verdict.events).toEqual([]);
    const delivery = await checkTopic(services.kafka.endpoint, topic, pool);
    console.log(`kafka: ${delivery.delivered} events delivered, ${delivery.duplicates} duplicates`);
    expect({ ...delivery, delivered: 0, duplicates: 0 }).toEqual({ delivered: 0, duplicates: 0, missing: [], unknown: [], splitJobs: [], outOfOrder: [], mismatched: [] });
    // Only UNAVAILABLE (and deadlines of calls caught by a freeze) may reach a client.
    expect([...load.failureCodes()].filter((c) => c !== "UNAVAILABLE" && c !== "DEADLINE_EXCEEDED")).toEqual([]);
    for (const n of nodes()) expect(n.unexpectedExits()).toEqual([]);
    expect(workers.filter((w) => !killedWorkers.has(w) && w.child.exitCode !== null).map((w) => w.child.exitCode)).toEqual([]);

    // The heal-time targets (docs/operations.md) are held by the full run; inside `npm test`, with
    // the rest of the suite competing for two cores, the short run checks correctness and prints them.
    if (FULL) {
      expect(heal.leaderFailoverMs as number).toBeLessThanOrEqual(LEASE_MS + 1_000);
      expect(heal.deadWorkerJobsBackToPendingMs as number).toBeLessThanOrEqual(HEARTBEAT_TIMEOUT_MS + 1_000);
      expect(heal.apiKillLongestFailedCallsMs as number).toBeLessThanOrEqual(CLIENT_KEEPALIVE.timeMs + CLIENT_KEEPALIVE.timeoutMs);
      expect(heal.freezeLongestFailedCallsMs as number).toBeLessThanOrEqual(CLIENT_KEEPALIVE.timeMs + CLIENT_KEEPALIVE.timeoutMs);
    }
  }, SIZE.timeoutMs);
});
