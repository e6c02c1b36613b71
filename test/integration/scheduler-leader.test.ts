import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { JobStatus, TransitionReason } from "../../libs/proto/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createKafka, uniqueTopicName } from "../support/kafka.js";
import { readWholeTopic } from "../support/outbox-topic.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { createRedisClient, uniqueKeyPrefix } from "../support/redis.js";
import { eventually } from "../support/eventually.js";
import { redisLock } from "../support/leader-watch.js";
import type { Redis } from "ioredis";
import { UNRELAYED } from "../support/event-log.js";

const LEASE_MS = 2000;
/**
 * How long a standby may take to act once the lock is free: it looks again just after the
 * holder's lock expires (standbyRetryDelay, unit-tested in libs/leader), and at worst one standby
 * retry interval (the renew interval, lease/3) later.
 */
const STANDBY_RETRY_MS = Math.floor(LEASE_MS / 3);

/** Two real scheduler processes on real Redis, Postgres and Kafka. */
describe("scheduler: one leader, failover, and its duties", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let redis: Redis;
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
    redis = await createRedisClient();
    db = await createTestDatabase();
    api = await startApi(db.url);
    for (const n of [1, 2]) {
      const s = startApp("scheduler", { ...env(db), JQ_NODE_ID: `sched-${n}` });
      schedulers.push(s);
    }
    await Promise.all(schedulers.map((s) => s.ready()));
  });
  afterAll(async () => {
    await redis.quit();
    await api.stop();
    for (const s of schedulers) await s.stop();
    await db.drop();
  });

  it("exactly one of two schedulers leads; after SIGKILL the other leads once the lock lapses, within one lease of the death", async () => {
    let flags: boolean[] = [];
    // Two processes starting and electing on a loaded machine: a generous deadline, no bound.
    await eventually("one leader", async () => (flags = await Promise.all(schedulers.map(isLeader))).filter(Boolean).length === 1, 30_000, 100);
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
    const published = async () =>
      (await db.pool.query<{ term: string; node_id: string; at: number }>("SELECT term, node_id, (extract(epoch FROM elected_at) * 1000)::float8 AS at FROM jq_leader WHERE name = 'scheduler'")).rows[0]!;
    const before = await published();
    leader.child.kill("SIGKILL");
    await leader.exited();
    const killedAt = Date.now(); // at or after the death, so at or after its last renewal
    // The dead leader's lock, as Redis holds it now that nothing can renew it: who, and until when
    // (Redis's clock; Postgres's elected_at below is on the same machine's clock).
    const lockKey = `${keyPrefix}leader:{scheduler}`;
    const { holder, endsAt: lockEndsAt } = await redisLock(redis, lockKey);
    expect(holder).toBe(`${before.node_id}:${before.term}`);
    // One lease at most: the dead leader renewed it (PX lease) no later than its death.
    expect(lockEndsAt - killedAt).toBeLessThanOrEqual(LEASE_MS + 1); // 1 ms: PTTL's rounding

    await eventually("the standby to lead", () => isLeader(standby), 3 * LEASE_MS, 50);
    const after = await published();
    console.info(`scheduler failover after SIGKILL: the lock lapsed ${(lockEndsAt - killedAt).toFixed(0)} ms after the kill, the standby led ${(after.at - lockEndsAt).toFixed(0)} ms later (lease ${LEASE_MS} ms)`);
    expect(after.node_id).toBe(standby === schedulers[0] ? "sched-1" : "sched-2");
    expect(BigInt(after.term)).toBeGreaterThan(BigInt(before.term));
    // Not before the lock lapsed (1 ms: PTTL's rounding), and within one standby retry of it.
    expect(after.at).toBeGreaterThanOrEqual(lockEndsAt - 1);
    expect(after.at - lockEndsAt).toBeLessThan(STANDBY_RETRY_MS);
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
