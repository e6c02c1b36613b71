import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { clusterEnv, startNode, startPrivateServices, type ClusterNode, type PrivateServices } from "../support/chaos-cluster.js";
import { UNRELAYED } from "../support/event-log.js";
import { jobRequest } from "../support/job-requests.js";
import { uniqueTopicName } from "../support/kafka.js";

/**
 * Issue 13 item 1 (Redis and Kafka): no jq process exits when Redis or the Kafka broker drops its
 * connections or restarts. Neither is required for any process's readiness (the api uses neither;
 * the scheduler needs Redis only to lead and Kafka only to relay; health reports both), so every
 * /readyz stays 200, the api keeps answering, and what needs the dependency (leadership, the
 * outbox relay, health's dependency report) stops and comes back by itself. Private Redis and
 * Kafka: this file restarts them.
 */
describe("every process survives Redis and Kafka faults", () => {
  let services: PrivateServices;
  let pool: pg.Pool;
  let client: JqClient;
  const nodes: ClusterNode[] = [];
  const env = { JQ_LEADER_LEASE_MS: "2000", JQ_SWEEP_INTERVAL_MS: "200", JQ_OUTBOX_POLL_MS: "100", JQ_PRESENCE_INTERVAL_MS: "500" };

  beforeAll(async () => {
    services = await startPrivateServices();
    const common = clusterEnv(services, uniqueTopicName("faults"), env);
    nodes.push(await startNode("api-f", "api", common));
    nodes.push(...(await Promise.all([startNode("sched-f1", "scheduler", common), startNode("sched-f2", "scheduler", common), startNode("health-f", "health", common)])));
    pool = new pg.Pool({ connectionString: services.postgres.endpoint, max: 2 });
    client = new JqClient({ address: nodes[0]!.address, maxAttempts: 1 });
    await client.call(client.admin, "createQueue", { name: "rk", paused: false, settings: {} });
  });
  afterAll(async () => {
    client?.close();
    await pool?.end();
    const codes = await Promise.all(nodes.map((n) => n.current.stop()));
    await services?.stop();
    expect(codes).toEqual(nodes.map(() => 0));
  });

  const schedulers = () => nodes.filter((n) => n.app === "scheduler");
  const health = () => nodes.find((n) => n.app === "health")!;
  const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const leaders = async () => {
    const answers = await Promise.all(schedulers().map((s) => s.probe("/readyz")));
    return answers.filter((a) => (a?.body.details as { leader?: boolean } | undefined)?.leader === true).length;
  };
  const dependency = async (name: string) => ((await health().probe("/status", 5_000))?.body.dependencies as Record<string, string> | undefined)?.[name];
  const everyoneReady = async () => (await Promise.all(nodes.map((n) => n.probe("/readyz")))).map((a) => a?.status);
  const nobodyExited = () => {
    for (const n of nodes) expect(n.unexpectedExits()).toEqual([]);
    for (const n of nodes) expect(n.current.logs.filter((l) => l.msg === "uncaught exception" || l.msg === "unhandled rejection")).toEqual([]);
  };
  /** Submits a job every 50 ms until stopped; every call must succeed (the api needs neither). */
  const traffic = () => {
    let running = true;
    const failures: string[] = [];
    let ok = 0;
    const loop = (async () => {
      while (running) {
        await client
          .call(client.jobs, "submitJob", jobRequest("rk"))
          .then(() => ok++)
          .catch((e: Error) => failures.push(e.message));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    return { failures, ok: () => ok, stop: async () => ((running = false), await loop) };
  };

  it("survives Redis restarting and killing every client connection; the leader comes back by itself", async () => {
    await until("a leader", async () => (await leaders()) === 1);
    await until("health sees redis", async () => (await dependency("redis")) === "ok");
    const load = traffic();

    await services.redis.stopServer("SIGKILL");
    await until("the leader steps down without Redis", async () => (await leaders()) === 0, 10_000);
    await until("health reports redis down", async () => (await dependency("redis")) !== "ok");
    expect(await everyoneReady()).toEqual(nodes.map(() => 200));
    await services.redis.startServer();
    await until("a leader again after the Redis restart", async () => (await leaders()) === 1);
    await until("health sees redis again", async () => (await dependency("redis")) === "ok");

    // Every connection killed server-side (as a proxy or failover would do), twice.
    const admin = new Redis(services.redis.endpoint, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await admin.connect();
    for (let i = 0; i < 2; i++) {
      expect(Number(await admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 500));
    }
    await admin.quit();
    await until("a leader after the connections were killed", async () => (await leaders()) === 1);
    await until("health sees redis after the kills", async () => (await dependency("redis")) === "ok");

    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.ok()).toBeGreaterThan(10);
    expect(await everyoneReady()).toEqual(nodes.map(() => 200));
    nobodyExited();
  });

  it("survives the Kafka broker restarting; events wait in the outbox and are relayed after", async () => {
    await until("a leader", async () => (await leaders()) === 1);
    const unrelayed = async () => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_events e WHERE ${UNRELAYED}`)).rows[0]!.n;
    await until("the outbox is drained", async () => (await unrelayed()) === 0);
    await until("health sees kafka", async () => (await dependency("kafka")) === "ok");
    const load = traffic();

    await services.kafka.stopServer("SIGKILL");
    await until("health reports kafka down", async () => (await dependency("kafka")) !== "ok");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await unrelayed()).toBeGreaterThan(0);
    expect(await everyoneReady()).toEqual(nodes.map(() => 200));
    await services.kafka.startServer();
    await load.stop();
    await until("health sees kafka again", async () => (await dependency("kafka")) === "ok", 60_000);
    await until("every event relayed after the restart", async () => (await unrelayed()) === 0, 60_000);

    expect(load.failures).toEqual([]);
    expect(await everyoneReady()).toEqual(nodes.map(() => 200));
    nobodyExited();
  }, 180_000);
});
