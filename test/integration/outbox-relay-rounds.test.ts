import pg from "pg";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxRelay } from "../../libs/outbox/index.js";
import { readRelayCursor } from "../../libs/outbox/outbox-store.js";
import { uniqueTopicName } from "../support/kafka.js";
import { capturingLogger, createOutboxDatabase, eventually, relayCounters, testBedRelay, watchRelayReads, writeFiftyEventsPerJob } from "../support/outbox-load.js";
import type { TestDatabase } from "../support/postgres.js";
import { findFreePort } from "../bed/free-port.js";

// The relay's rounds between its reads and sends, in this process against the test bed's Postgres
// and Kafka (libs/outbox/outbox-relay.ts): an idle relay polls at its interval and so does one
// after a batch that was not full, a stop that
// arrives during a read sends nothing of what the read returns, the producer is replaced after
// every `recreateProducerAfter` failed sends, and the lag is measured on the wall clock.

const QUEUE = "rounds";
const REPLACING = "outbox relay: replacing the Kafka producer after repeated failed sends";

describe("outbox relay rounds", () => {
  let db: TestDatabase;
  const relays: OutboxRelay[] = [];
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    db = await createOutboxDatabase(QUEUE);
  });
  afterAll(async () => {
    await Promise.allSettled(relays.map((r) => r.stop()));
    await Promise.allSettled(pools.map((p) => p.end()));
    await db.drop();
  });

  /** A pool of its own for a relay, and how many times the relay has taken a connection from it. */
  const countingPool = () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pools.push(pool);
    const counted = { pool, checkouts: 0 };
    pool.on("acquire", () => (counted.checkouts += 1));
    return counted;
  };
  /** Runs every event written so far through a relay, so the next test starts with an empty log. */
  const drain = async () => {
    const counters = relayCounters();
    const relay = testBedRelay(relays, db.pool, uniqueTopicName("drain"), 1, { pollMs: 20, hooks: counters.hooks });
    await relay.start();
    const last = (await db.pool.query<{ id: string }>("SELECT max(id)::text AS id FROM job_events")).rows[0]!.id;
    await eventually("the log drained", async () => (await readRelayCursor(db.pool)).id === last, 20_000);
    await relay.stop();
  };

  it("polls an empty log once per poll interval, not in a busy loop", async () => {
    const counted = countingPool();
    const relay = testBedRelay(relays, counted.pool, uniqueTopicName("idle"), 1, { pollMs: 100 });
    await relay.start();
    await sleep(200);
    const before = counted.checkouts;
    await sleep(1_000);
    const reads = counted.checkouts - before;
    await relay.stop();
    // ten polls in the second; the bounds leave room for a slow machine, not for a loop
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(reads).toBeLessThanOrEqual(15);
  });

  it("after a batch that was not full, waits its poll interval before reading again", async () => {
    const watched = watchRelayReads(db.pool);
    const counters = relayCounters();
    const relay = testBedRelay(relays, watched.pool, uniqueTopicName("partial"), 1, { pollMs: 5_000, hooks: counters.hooks });
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    await relay.start();
    await eventually("the partial batch relayed", () => counters.relayed === 50, 20_000);
    await sleep(500);
    await relay.stop();
    const ackAt = counters.acks[0]!;
    expect(watched.readsAt.filter((t) => t > ackAt)).toEqual([]);
  });

  it("measures the lag of waiting events on the wall clock when it is given no clock", async () => {
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    const relay = testBedRelay(relays, db.pool, uniqueTopicName("lag"), 1);
    const lag = await relay.lag();
    expect(lag.rows).toBe(50);
    expect(lag.oldestAgeMs).toEqual(expect.any(Number));
    expect(lag.oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect(lag.oldestAgeMs).toBeLessThan(60_000);
    await drain();
  });

  it("sends nothing of a read that returns after stop() was called, and keeps the cursor", async () => {
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    const before = await readRelayCursor(db.pool);
    // The relay's read of job_events waits behind this lock until the test lets it go.
    const locker = await db.pool.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE job_events IN ACCESS EXCLUSIVE MODE");
      const counters = relayCounters();
      const relay = testBedRelay(relays, db.pool, uniqueTopicName("stop_read"), 1, { hooks: counters.hooks });
      await relay.start();
      await eventually("the relay's read waiting on the lock", async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%job_events%'",
        );
        return rows[0]!.n > 0;
      });
      const stopped = relay.stop();
      await sleep(100);
      await locker.query("COMMIT");
      await stopped;
      expect(counters.relayed).toBe(0);
      expect(counters.failures).toEqual([]);
      expect(await readRelayCursor(db.pool)).toEqual(before);
    } finally {
      locker.release();
    }
    await drain();
  });

  it("replaces the producer after every recreateProducerAfter failed sends", async () => {
    await writeFiftyEventsPerJob(db.pool, QUEUE, 1);
    // A port nothing listens on: every send fails at once.
    const port = await findFreePort();

    const counters = relayCounters();
    const logger = capturingLogger();
    const relay = new OutboxRelay({
      pool: db.pool,
      kafka: { brokers: [`127.0.0.1:${port}`], clientId: "jq-outbox-rounds-test", topic: uniqueTopicName("refused"), topicPartitions: 1 },
      log: logger.log,
      recreateProducerAfter: 3,
      backoff: { baseMs: 10, maxMs: 10, jitter: "none" },
      kafkaClient: { connectionTimeout: 1_000, retry: { retries: 0 } },
      hooks: counters.hooks,
    });
    relays.push(relay);
    await relay.start();
    await eventually("seven failed sends", () => counters.failures.length >= 7, 20_000);
    await relay.stop();
    expect(counters.failures.every((f) => f.step === "send")).toBe(true);
    const replaced = logger.lines.filter((l) => l.msg === REPLACING);
    expect(replaced.map((l) => l.failedSends)).toEqual(Array.from({ length: Math.floor(counters.failures.length / 3) }, (_, i) => 3 * (i + 1)));
    expect(counters.relayed).toBe(0);
  });
});
