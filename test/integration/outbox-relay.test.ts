import type { Admin } from "kafkajs";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxRelay, type OutboxRelayOptions } from "../../libs/outbox/index.js";
import { findFreePort } from "../bed/free-port.js";
import { createKafka, uniqueTopicName } from "../support/kafka.js";
import { capturingLogger, createOutboxDatabase, eventually, relayCounters, startLoad, testBedRelay, writeFiftyEventsPerJob } from "../support/outbox-load.js";
import { checkDelivery, readWholeTopic, storedEvents } from "../support/outbox-topic.js";
import type { TestDatabase } from "../support/postgres.js";

// The outbox relay against the test bed's Postgres and Kafka (SPEC §6): what reaches the topic,
// in what order, and what is left in the outbox.

const QUEUE = "relay";

/**
 * A pool that watches the relay's batch reads and counts rows whose event id is below the
 * highest id read before: rows whose transaction committed after a later-numbered one.
 */
function lateCommits(pool: pg.Pool): { pool: pg.Pool; readonly count: number } {
  let highest = 0n;
  let count = 0;
  const query = async (...args: Parameters<pg.Pool["query"]>) => {
    const result = await (pool.query as (...a: unknown[]) => Promise<pg.QueryResult>)(...args);
    if (typeof args[0] === "string" && args[0].includes("pg_snapshot_xmin(pg_current_snapshot())")) {
      const ids = result.rows.map((r: { id: string }) => BigInt(r.id));
      count += ids.filter((id) => id < highest).length;
      for (const id of ids) if (id > highest) highest = id;
    }
    return result;
  };
  const watched = new Proxy(pool, {
    get: (target, prop) => (prop === "query" ? query : (Reflect.get(target, prop, target) as unknown)),
  });
  return {
    pool: watched,
    get count() {
      return count;
    },
  };
}
const CLEAN = { missing: [], duplicates: 0, unknown: [], splitJobs: [], outOfOrder: [], mismatched: [] };

describe("outbox relay", () => {
  const kafka = createKafka("jq-outbox-relay-test");
  let admin: Admin;
  const databases: TestDatabase[] = [];
  const relays: OutboxRelay[] = [];

  const database = async () => {
    const db = await createOutboxDatabase(QUEUE);
    databases.push(db);
    return db;
  };
  const relayFor = (db: TestDatabase, topic: string, options: Partial<OutboxRelayOptions> = {}) => testBedRelay(relays, db.pool, topic, 6, options);

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.allSettled(relays.map((r) => r.stop()));
    await admin.disconnect();
    await Promise.allSettled(databases.map((db) => db.drop()));
  });

  it("relays 10,000 events of 200 jobs: each exactly once, per job in order, with type header and JobEvent value; the outbox ends empty", async () => {
    const db = await database();
    const topic = uniqueTopicName("events");
    const writeStarted = performance.now();
    const jobIds = await writeFiftyEventsPerJob(db.pool, QUEUE, 200);
    const writeMs = performance.now() - writeStarted;
    expect(jobIds).toHaveLength(200);

    const counters = relayCounters();
    let firstAckAt: number | undefined;
    const relay = relayFor(db, topic, {
      batchSize: 500,
      hooks: {
        onRelayed: (n) => {
          firstAckAt ??= performance.now();
          counters.hooks.onRelayed(n);
        },
        onFailure: counters.hooks.onFailure,
      },
    });
    expect(await relay.lag()).toMatchObject({ rows: 10_000 });

    const started = performance.now();
    await relay.start();
    await eventually("10,000 events acknowledged", () => counters.relayed >= 10_000, 60_000, 5);
    const doneAt = performance.now();
    await eventually("outbox empty", async () => (await relay.lag()).rows === 0);
    await relay.stop();
    expect(relay.running).toBe(false);

    const totalMs = doneAt - started;
    const steadyMs = doneAt - (firstAckAt ?? started);
    console.info(
      `outbox relay: 10,000 events (200 jobs × 50) relayed in ${totalMs.toFixed(0)} ms = ${((10_000 / totalMs) * 1000).toFixed(0)} events/s ` +
        `including producer connect and topic creation (${(firstAckAt! - started).toFixed(0)} ms to the first ack); ` +
        `${((10_000 / steadyMs) * 1000).toFixed(0)} events/s from the first ack; writing them took ${writeMs.toFixed(0)} ms`,
    );

    expect(counters.relayed).toBe(10_000);
    expect(counters.failures).toEqual([]);
    expect(await relay.lag()).toEqual({ rows: 0, oldestAgeMs: null });

    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(metadata?.partitions).toHaveLength(6);

    const received = await readWholeTopic(kafka, topic);
    expect(received).toHaveLength(10_000);
    expect(checkDelivery(received, await storedEvents(db.pool))).toEqual({ delivered: 10_000, ...CLEAN });
    expect(new Set(received.map((r) => r.type))).toEqual(
      new Set(["job.submitted", "job.assigned", "job.started", "job.failed", "job.retry_scheduled", "job.cancelled", "job.succeeded"]),
    );
    expect(new Set(received.map((r) => r.key))).toEqual(new Set(jobIds));
  });

  it("keeps per-job order while writers commit out of id order, across stop and restart, on a topic that already exists", async () => {
    const db = await database();
    const topic = uniqueTopicName("concurrent");
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const counters = relayCounters();
    const { log, lines } = capturingLogger();
    const late = lateCommits(db.pool);
    const relay = relayFor(db, topic, { pool: late.pool, batchSize: 100, pollMs: 20, hooks: counters.hooks, log });

    await relay.start();
    await relay.start(); // already running: a no-op
    const load = startLoad(db.pool, QUEUE, { writers: 6 });
    await eventually("events flowing", () => counters.relayed > 1_000, 30_000);
    await Promise.all([relay.stop(), relay.stop()]); // demoted: stops once
    const relayedWhileLeader = counters.relayed;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(counters.relayed).toBe(relayedWhileLeader);
    expect((await relay.lag()).rows).toBeGreaterThan(0); // the writers went on without it

    await relay.start(); // elected again
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stats = await load.stop();
    await eventually("outbox drained", async () => (await relay.lag()).rows === 0, 30_000);
    await relay.stop();

    expect(stats.failures).toBe(0);
    expect(counters.failures).toEqual([]);
    const stored = await storedEvents(db.pool);
    const received = await readWholeTopic(kafka, topic);
    expect(checkDelivery(received, stored)).toEqual({ delivered: stored.size, ...CLEAN });
    expect(lines.filter((l) => l.msg === "event topic exists with a different partition count; keeping it")).toHaveLength(2);
    console.info(
      `outbox relay under ${stats.rounds} concurrent write rounds: ${stored.size} events, all delivered once, per-job order kept; ` +
        `${late.count} rows were read after a higher event id had already been read (committed out of id order)`,
    );
  });

  it("starts and stops promptly while Kafka is unreachable, keeping every row", async () => {
    const db = await database();
    await writeFiftyEventsPerJob(db.pool, QUEUE, 2);
    const counters = relayCounters();
    const { log, lines } = capturingLogger();
    const relay = new OutboxRelay({
      pool: db.pool,
      kafka: { brokers: [`127.0.0.1:${await findFreePort()}`], clientId: "jq-outbox-test", topic: uniqueTopicName("nowhere"), topicPartitions: 1 },
      log,
      backoff: { baseMs: 50, maxMs: 200, jitter: "none" },
      kafkaClient: { retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 } },
      hooks: counters.hooks,
      now: () => new Date(Date.now() + 3_600_000),
    });
    relays.push(relay);

    const startedAt = performance.now();
    await relay.start();
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    await eventually("three failed rounds", () => counters.failures.length >= 3, 30_000);
    expect(counters.relayed).toBe(0);
    const lag = await relay.lag();
    expect(lag.rows).toBe(100);
    expect(lag.oldestAgeMs).toBeGreaterThanOrEqual(3_600_000 - 60_000);

    const stopAt = performance.now();
    await relay.stop();
    expect(performance.now() - stopAt).toBeLessThan(6_000);
    expect((await relay.lag()).rows).toBe(100);
    expect(counters.failures.every((f) => f.step === "send")).toBe(true);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1); // rate-limited: one line per 30 s
  });
});
