import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { JobStatus, TransitionReason } from "../../libs/proto/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createKafka, uniqueTopicName } from "../support/kafka.js";
import { readWholeTopic } from "../support/outbox-topic.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { uniqueKeyPrefix } from "../support/redis.js";
import { UNRELAYED } from "../support/event-log.js";

const LEASE_MS = 2000;

/** Two real scheduler processes on real Redis, Postgres and Kafka. */
describe("scheduler: one leader, failover, and its duties", () => {
  let db: TestDatabase;
  let api: RunningApi;
  const schedulers: AppProcess[] = [];
  const topic = uniqueTopicName("jq_events");
  const keyPrefix = uniqueKeyPrefix("jq");
  const bed = inject("testBed");
  const env = (db: TestDatabase) => ({
    JQ_DATABASE_URL: db.url,
    JQ_REDIS_URL: bed.redisUrl,
    JQ_REDIS_KEY_PREFIX: keyPrefix,
    JQ_KAFKA_BROKERS: bed.kafkaBrokers.join(","),
    JQ_KAFKA_TOPIC: topic,
    JQ_KAFKA_TOPIC_PARTITIONS: "2",
    JQ_LEADER_LEASE_MS: String(LEASE_MS),
    JQ_SWEEP_INTERVAL_MS: "200",
    JQ_RETENTION_INTERVAL_MS: "300",
    JQ_OUTBOX_POLL_MS: "50",
  });
  const isLeader = async (s: AppProcess) => {
    const text = await (await fetch(`http://127.0.0.1:${await s.ready()}/metrics`)).text();
    return /^jq_scheduler_leader\{app="scheduler"\} 1$/m.test(text);
  };
  const leaders = async () => (await Promise.all(schedulers.filter((s) => s.child.exitCode === null && s.child.signalCode === null).map(isLeader))).filter(Boolean).length;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url);
    for (const n of [1, 2]) {
      const s = startApp("scheduler", { ...env(db), JQ_NODE_ID: `sched-${n}` });
      schedulers.push(s);
    }
    await Promise.all(schedulers.map((s) => s.ready()));
  });
  afterAll(async () => {
    await api.stop();
    for (const s of schedulers) await s.stop();
    await db.drop();
  });

  it("exactly one of two schedulers leads; after SIGKILL the other leads within one lease", async () => {
    const deadline = Date.now() + 10_000;
    while ((await leaders()) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const flags = await Promise.all(schedulers.map(isLeader));
    expect(flags.filter(Boolean)).toHaveLength(1);
    // Sampled for a while: never two.
    for (let i = 0; i < 10; i++) {
      expect(await leaders()).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 100));
    }
    const leader = schedulers[flags.indexOf(true)]!;
    const standby = schedulers[flags.indexOf(false)]!;
    // /readyz says which one leads, and both are ready (a standby is healthy).
    const readyz = async (s: AppProcess) => (await fetch(`http://127.0.0.1:${await s.ready()}/readyz`)).json() as Promise<{ ready: boolean; details: { leader: boolean } }>;
    expect(await readyz(leader)).toMatchObject({ ready: true, details: { leader: true } });
    expect(await readyz(standby)).toMatchObject({ ready: true, details: { leader: false } });
    const termBefore = (await db.pool.query("SELECT term FROM jq_leader WHERE name = 'scheduler'")).rows[0].term;
    leader.child.kill("SIGKILL");
    const killedAt = Date.now();
    while (!(await isLeader(standby))) {
      if (Date.now() - killedAt > 3 * LEASE_MS) throw new Error("the standby did not take over");
      await new Promise((r) => setTimeout(r, 50));
    }
    const failoverMs = Date.now() - killedAt;
    console.info(`scheduler failover after SIGKILL: ${failoverMs} ms (lease ${LEASE_MS} ms)`);
    expect(failoverMs).toBeLessThan(LEASE_MS + 1000);
    const termAfter = (await db.pool.query("SELECT term FROM jq_leader WHERE name = 'scheduler'")).rows[0].term;
    expect(BigInt(termAfter)).toBeGreaterThan(BigInt(termBefore));
  });

  it("relays job events to Kafka, expires PENDING jobs past the TTL, and removes finished jobs past retention", async () => {
    const c = api.client();
    await c.call(c.admin, "createQueue", { name: "ttl", paused: true, settings: { ttl: { seconds: "1", nanos: 0 } } });
    await c.call(c.admin, "createQueue", { name: "short", paused: false, settings: { retention: { seconds: "1", nanos: 0 } } });
    const { job: expiring } = await c.call(c.jobs, "submitJob", jobRequest("ttl"));
    const { job: finished } = await c.call(c.jobs, "submitJob", jobRequest("short"));
    await c.call(c.jobs, "cancelJob", { jobId: finished!.id, message: "" });

    const deadline = Date.now() + 15_000;
    let expired;
    for (;;) {
      expired = (await c.call(c.jobs, "getJobStatus", { jobId: expiring!.id, view: 0 })).job!;
      if (expired.status === JobStatus.DEAD_LETTERED || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(expired).toMatchObject({ status: JobStatus.DEAD_LETTERED, statusReason: TransitionReason.EXPIRED });

    // Retention waits for the relay: the finished job goes once its events reached Kafka.
    for (;;) {
      const gone = (await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE id = $1", [finished!.id])).rows[0].n === 0;
      if (gone || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await db.pool.query("SELECT count(*)::int AS n FROM job_events WHERE job_id = $1", [finished!.id])).rows[0].n).toBe(0);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE id = $1", [finished!.id])).rows[0].n).toBe(0);

    while ((await db.pool.query(`SELECT count(*)::int AS n FROM job_events e WHERE ${UNRELAYED}`)).rows[0].n > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${await schedulers.find((x) => x.child.exitCode === null && x.child.signalCode === null)!.ready()}/metrics`)).text();
    expect(metrics).toMatch(/^jq_outbox_events\{app="scheduler"\} 0$/m);
    expect(metrics).toMatch(/^jq_outbox_oldest_age_seconds\{app="scheduler"\} 0$/m);
    const received = await readWholeTopic(createKafka(), topic);
    const types = (id: string) => received.filter((r) => r.key === id).map((r) => r.type);
    expect(types(expiring!.id)).toEqual(["job.submitted", "job.expired"]);
    expect(types(finished!.id)).toEqual(["job.submitted", "job.cancelled"]);
  });
});
