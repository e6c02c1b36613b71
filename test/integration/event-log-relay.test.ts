import type { Admin } from "kafkajs";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cancelJob, retryJob, submitJobs, type NewJob } from "../../libs/jobs/index.js";
import { OutboxRelay } from "../../libs/outbox/index.js";
import { createKafka, uniqueTopicName } from "../support/kafka.js";
import { capturingLogger, createOutboxDatabase, eventually, newJob, relayCounters, watchRelayReads } from "../support/outbox-load.js";
import { checkDelivery, readWholeTopic, storedEvents } from "../support/outbox-topic.js";
import type { TestDatabase } from "../support/postgres.js";

// The event log is the outbox (docs/write-path.md): the relay reads job_events past a durable
// cursor, below the transaction horizon. These tests force the two orders a naive reader of an
// insert-ordered log gets wrong, and check what reaches Kafka.

const QUEUE = "horizon";
const CLEAN = { missing: [], duplicates: 0, unknown: [], splitJobs: [], outOfOrder: [], mismatched: [] };

const job = (name: string): NewJob => newJob(QUEUE, name);

/** Clients of open transactions, released after the tests even when one fails midway. */
const clients = new Set<pg.PoolClient>();

async function begin(db: TestDatabase): Promise<pg.PoolClient> {
  const client = await db.pool.connect();
  clients.add(client);
  await client.query("BEGIN");
  return client;
}

function commit(client: pg.PoolClient): Promise<unknown> {
  clients.delete(client);
  return client.query("COMMIT").finally(() => client.release());
}

async function xidOf(client: pg.PoolClient): Promise<bigint> {
  return BigInt((await client.query<{ x: string }>("SELECT pg_current_xact_id()::text AS x")).rows[0]!.x);
}

describe("event log relay below the transaction horizon", () => {
  const kafka = createKafka("jq-event-log-test");
  let admin: Admin;
  const databases: TestDatabase[] = [];
  const relays: OutboxRelay[] = [];

  const setUp = async () => {
    const db = await createOutboxDatabase(QUEUE);
    databases.push(db);
    const topic = uniqueTopicName("horizon");
    // One partition: the topic's order is the relay's order, for every job at once.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const counters = relayCounters();
    const watched = watchRelayReads(db.pool);
    const relay = new OutboxRelay({
      pool: watched.pool,
      kafka: { brokers: inject("testBed").kafkaBrokers, clientId: "jq-event-log-test", topic, topicPartitions: 1 },
      log: capturingLogger().log,
      pollMs: 20,
      hooks: counters.hooks,
    });
    relays.push(relay);
    return { db, topic, counters, watched, relay };
  };

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    for (const c of clients) c.release(true);
    await Promise.allSettled(relays.map((r) => r.stop()));
    await admin.disconnect();
    await Promise.allSettled(databases.map((db) => db.drop()));
  });

  it("holds back at a transaction left open across its reads, then relays the late commit first", async () => {
    const { db, topic, counters, watched, relay } = await setUp();
    const open = await begin(db);
    const [late] = await submitJobs(open, [job("late")]);
    const [early] = await submitJobs(db.pool, [job("early")]);
    // The late event has the lower id, and is not visible yet: its transaction commits after the other.
    const ids = await db.pool.query<{ job_id: string; id: string }>("SELECT job_id, id::text FROM job_events ORDER BY id");
    expect(ids.rows.map((r) => r.job_id)).toEqual([early!.job.id]);

    await relay.start();
    const readsBefore = watched.readsAt.length;
    await eventually("five relay reads while the transaction is open", () => watched.readsAt.length >= readsBefore + 5, 10_000);
    expect(counters.relayed).toBe(0); // the committed later event waits behind the open transaction
    expect((await relay.lag()).rows).toBe(1);

    await commit(open);
    await eventually("both relayed", () => counters.relayed === 2, 15_000);
    await relay.stop();

    const stored = await storedEvents(db.pool);
    const lateEvent = [...stored.values()].find((e) => e.job_id === late!.job.id)!;
    const earlyEvent = [...stored.values()].find((e) => e.job_id === early!.job.id)!;
    expect(BigInt(lateEvent.id)).toBeLessThan(BigInt(earlyEvent.id)); // committed out of id order
    const received = await readWholeTopic(kafka, topic);
    expect(received.map((r) => r.event.jobId)).toEqual([late!.job.id, early!.job.id]);
    expect(checkDelivery(received, stored)).toEqual({ delivered: 2, ...CLEAN });
    expect(await relay.lag()).toEqual({ rows: 0, oldestAgeMs: null });
  });

  it("keeps a job's events in order when the later change's transaction has the lower xid", async () => {
    const { db, topic, counters, relay } = await setUp();
    const [target] = await submitJobs(db.pool, [job("target")]);
    const id = target!.job.id;

    // Older takes its xid first (by writing something else), newer takes a later xid, changes
    // the job and commits; then older changes the same job after it and commits.
    const older = await begin(db);
    await submitJobs(older, [job("unrelated")]);
    const newer = await begin(db);
    await cancelJob(newer, id, "cancelled first");
    const [olderXid, newerXid] = [await xidOf(older), await xidOf(newer)];
    expect(olderXid).toBeLessThan(newerXid);
    await commit(newer);
    await retryJob(older, id);
    await commit(older);

    const { rows } = await db.pool.query<{ reason: string; xid: string }>(
      "SELECT reason, xid::text FROM job_events WHERE job_id = $1 ORDER BY id",
      [id],
    );
    expect(rows.map((r) => r.reason)).toEqual(["SUBMITTED", "CANCELLED", "RETRIED_MANUALLY"]);
    // The retry was written by the transaction with the lower xid, yet sorts after the cancel.
    expect(BigInt(rows[2]!.xid)).toBe(newerXid);

    await relay.start();
    await eventually("all relayed", () => counters.relayed === 4, 15_000);
    await relay.stop();
    const received = await readWholeTopic(kafka, topic);
    const ofTarget = received.filter((r) => r.event.jobId === id).map((r) => r.type);
    expect(ofTarget).toEqual(["job.submitted", "job.cancelled", "job.retry_scheduled"]);
    expect(checkDelivery(received, await storedEvents(db.pool))).toEqual({ delivered: 4, ...CLEAN });
  });
});
