import { randomBytes } from "node:crypto";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxRelay, type OutboxRelayOptions } from "../../libs/outbox/index.js";
import { readRelayCursor } from "../../libs/outbox/outbox-store.js";
import { createKafka, uniqueTopicName } from "../support/kafka.js";
import { capturingLogger, createOutboxDatabase, eventually, relayCounters, testBedRelay, writeFiftyEventsPerJob } from "../support/outbox-load.js";
import { checkDelivery, readWholeTopic, storedEvents } from "../support/outbox-topic.js";
import type { TestDatabase } from "../support/postgres.js";

// The relay's rounds when a step fails and when the log is busy, in this process against the test
// bed's Postgres and Kafka (libs/outbox/outbox-relay.ts): a cursor Kafka acknowledged but Postgres
// would not save is saved before the next read and at stop, never sent twice; a failed read is
// retried, and the round that next succeeds says the relay recovered; a failed read or save never
// replaces the producer; full batches go back to back; and a stop while a send hangs leaves no
// round running. outbox-relay.test.ts has the happy path and ordering, outbox-relay-rounds.test.ts
// the idle polls and the producer's replacement, outbox-kafka-outage.test.ts a broker that goes away.

const QUEUE = "recovery";
const RECOVERED = "outbox relay recovered";
const REPLACING = "outbox relay: replacing the Kafka producer after repeated failed sends";
const CLEAN = { missing: [], duplicates: 0, unknown: [], splitJobs: [], outOfOrder: [], mismatched: [] };

describe("outbox relay recovery", () => {
  const kafka = createKafka("jq-outbox-recovery-test");
  let db: TestDatabase;
  /** A login role that may read everything and, until granted, not save the relay's cursor. */
  let role: string;
  let rolePool: pg.Pool;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    db = await createOutboxDatabase(QUEUE);
    role = `relay_${randomBytes(4).toString("hex")}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN`);
    await db.pool.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await db.pool.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    const url = new URL(db.url);
    url.username = role;
    url.password = "";
    rolePool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  });
  afterAll(async () => {
    await Promise.allSettled(relays.map((r) => r.stop()));
    await rolePool.end();
    await db.drop();
  });

  const relayFor = (topic: string, options: Partial<OutboxRelayOptions> = {}) => testBedRelay(relays, db.pool, topic, 3, options);
  const cursorSaving = (allowed: boolean) =>
    db.pool.query(allowed ? `GRANT INSERT, UPDATE ON relay_cursors TO ${role}` : `REVOKE INSERT, UPDATE ON relay_cursors FROM ${role}`);
  /** Where the newest event is in the relay's order: where the cursor ends once all are sent. */
  const lastPosition = async () =>
    (await db.pool.query<{ xid: string; id: string }>("SELECT xid::text AS xid, id::text AS id FROM job_events ORDER BY xid DESC, id DESC LIMIT 1")).rows[0]!;
  /**
   * The role's pool, retrying a refused step every 50 ms, with a producer that would be replaced
   * after every failed send: a failed read or save must never replace it.
   */
  const retryingOnRefusal = (counters: ReturnType<typeof relayCounters>, logger: ReturnType<typeof capturingLogger>) => ({
    pool: rolePool,
    backoff: { baseMs: 50, maxMs: 50, jitter: "none" as const },
    recreateProducerAfter: 1,
    hooks: counters.hooks,
    log: logger.log,
  });
  const expectTopicHoldsEveryEventOnce = async (topic: string) => {
    const stored = await storedEvents(db.pool);
    expect(checkDelivery(await readWholeTopic(kafka, topic), stored)).toEqual({ delivered: stored.size, ...CLEAN });
  };

  it("sends full batches back to back and waits its poll interval only after a partial one", async () => {
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    const topic = uniqueTopicName("full");
    const counters = relayCounters();
    // A poll interval far longer than the test: a round that waited after a full batch would stall.
    const relay = relayFor(topic, { batchSize: 10, pollMs: 60_000, hooks: counters.hooks });
    expect(relay.running).toBe(false);
    await relay.start();
    expect(relay.running).toBe(true);
    await eventually("five full batches", () => counters.relayed === 50, 20_000);
    expect(counters.acks).toHaveLength(5);
    await relay.stop();
    expect(relay.running).toBe(false);
    expect(await readRelayCursor(db.pool)).toEqual(await lastPosition());
    await expectTopicHoldsEveryEventOnce(topic);
  });

  it("saves a cursor Kafka acknowledged but Postgres refused before reading on, and sends nothing twice", async () => {
    const before = await readRelayCursor(db.pool);
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    await cursorSaving(false);
    const topic = uniqueTopicName("unsaved");
    const counters = relayCounters();
    const logger = capturingLogger();
    const relay = relayFor(topic, { ...retryingOnRefusal(counters, logger), pollMs: 20 });
    await relay.start();
    await eventually("the save refused twice", () => counters.failures.filter((f) => f.step === "advance").length >= 2, 20_000);
    expect(counters.relayed).toBe(50);
    expect(counters.failures.every((f) => f.step === "advance" && /permission denied/.test(f.message))).toBe(true);
    expect(await readRelayCursor(db.pool)).toEqual(before);

    await cursorSaving(true);
    const last = await lastPosition();
    // Saved while the relay runs on: not left for the next leader to send again.
    await eventually("the cursor saved", async () => (await readRelayCursor(db.pool)).id === last.id, 20_000);
    expect(relay.running).toBe(true);
    await relay.stop();
    expect(counters.relayed).toBe(50);
    expect(await readRelayCursor(db.pool)).toEqual(last);
    expect(logger.lines.filter((l) => l.msg === REPLACING)).toEqual([]);
  });

  it("saves an acknowledged cursor at stop when the round's save failed", async () => {
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    await cursorSaving(false);
    const topic = uniqueTopicName("stop");
    const counters = relayCounters();
    // After the failed save the relay backs off for a minute: only stop() can save the cursor.
    const relay = relayFor(topic, { pool: rolePool, backoff: { baseMs: 60_000, maxMs: 60_000, jitter: "none" }, hooks: counters.hooks });
    await relay.start();
    await eventually("the save refused", () => counters.failures.some((f) => f.step === "advance"), 20_000);
    expect(counters.relayed).toBe(50);
    await cursorSaving(true);
    await relay.stop();
    expect(await readRelayCursor(db.pool)).toEqual(await lastPosition());
  });

  it("retries a read Postgres refused, naming the step, and says it recovered with the batch that follows", async () => {
    await db.pool.query(`REVOKE SELECT ON job_events FROM ${role}`);
    await cursorSaving(true);
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    const topic = uniqueTopicName("read");
    const counters = relayCounters();
    const logger = capturingLogger();
    // A poll interval far longer than the test: the recovery is the relayed batch's to report.
    const relay = relayFor(topic, { ...retryingOnRefusal(counters, logger), pollMs: 60_000 });
    await relay.start();
    await eventually("the read refused twice", () => counters.failures.length >= 2, 20_000);
    expect(counters.failures.every((f) => f.step === "read" && /permission denied/.test(f.message))).toBe(true);
    expect(counters.relayed).toBe(0);
    await db.pool.query(`GRANT SELECT ON job_events TO ${role}`);
    await eventually("the waiting events relayed", async () => (await readRelayCursor(db.pool)).id === (await lastPosition()).id, 20_000);
    await eventually("the recovery logged", () => logger.lines.some((l) => l.msg === RECOVERED), 5_000);
    await relay.stop();
    expect(counters.relayed).toBe(50);
    expect(logger.lines.filter((l) => l.msg === REPLACING)).toEqual([]);
  });

  it("reports a refused cursor read under the read step, and says it recovered at the first empty read", async () => {
    await db.pool.query(`REVOKE SELECT ON relay_cursors FROM ${role}`);
    const counters = relayCounters();
    const logger = capturingLogger();
    const relay = relayFor(uniqueTopicName("cursor_read"), { ...retryingOnRefusal(counters, logger), pollMs: 60_000 });
    await relay.start();
    await eventually("the cursor read refused twice", () => counters.failures.length >= 2, 20_000);
    expect(counters.failures.every((f) => f.step === "read" && /permission denied/.test(f.message))).toBe(true);
    await db.pool.query(`GRANT SELECT ON relay_cursors TO ${role}`);
    // Nothing waits to be sent: the empty read is the round that succeeds.
    await eventually("the recovery logged", () => logger.lines.some((l) => l.msg === RECOVERED), 5_000);
    await relay.stop();
    expect(counters.relayed).toBe(0);
    expect(logger.lines.filter((l) => l.msg === REPLACING)).toEqual([]);
  });

  it("stops while a send hangs, and no round runs after stop() resolves", async () => {
    // A "broker" that accepts connections and never answers: a send hangs until kafkajs times out.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
      const counters = relayCounters();
      const relay = new OutboxRelay({
        pool: db.pool,
        kafka: { brokers: [`127.0.0.1:${port}`], clientId: "jq-outbox-recovery-test", topic: uniqueTopicName("silent"), topicPartitions: 1 },
        log: capturingLogger().log,
        stopTimeoutMs: 200,
        kafkaClient: { connectionTimeout: 2_000, requestTimeout: 2_000, retry: { retries: 0 } },
        hooks: counters.hooks,
      });
      relays.push(relay);
      await relay.start();
      await eventually("a connection to the silent broker", () => sockets.size > 0, 10_000);
      const stopAt = performance.now();
      await relay.stop();
      const stopMs = performance.now() - stopAt;
      const failuresAtStop = counters.failures.length;
      // Past the connection timeout: a round still running would have failed and reported it.
      await sleep(3_000);
      expect(counters.failures.length).toBe(failuresAtStop);
      expect(counters.relayed).toBe(0);
      // The connection attempt in flight is not cut short: stop() waits out its 2 s timeout, no more.
      expect(stopMs).toBeLessThan(4_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
