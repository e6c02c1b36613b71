import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxRelay } from "../../libs/outbox/index.js";
import { startLocalKafka, type LocalKafka } from "../bed/kafka.js";
import { uniqueTopicName } from "../support/kafka.js";
import { capturingLogger, createOutboxDatabase, eventually, relayCounters, startLoad } from "../support/outbox-load.js";
import { checkDelivery, readWholeTopic, storedEvents } from "../support/outbox-topic.js";
import type { TestDatabase } from "../support/postgres.js";
import { UNRELAYED } from "../support/event-log.js";

// SPEC §6: "Kafka being down never stops dispatch; the outbox grows and drains when Kafka
// returns." The shared broker serves other files, so this one starts a private broker it can kill
// (a crash: SIGKILL, no controlled shutdown) and restart on the same port and data.

const QUEUE = "relay";
/** How long Kafka stays down: long enough for many failed sends, several backoff caps and a producer replacement. */
const OUTAGE_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

describe("outbox relay through a Kafka outage", () => {
  let broker: LocalKafka | undefined;
  let db: TestDatabase | undefined;
  let relay: OutboxRelay | undefined;

  beforeAll(async () => {
    [broker, db] = await Promise.all([startLocalKafka(), createOutboxDatabase(QUEUE)]);
  });
  afterAll(async () => {
    await relay?.stop();
    await db?.drop();
    await broker?.stop();
  });

  it(`keeps every event while Kafka is down for ${OUTAGE_MS / 1000} s, writes going on, then delivers them all in per-job order`, async () => {
    const topic = uniqueTopicName("outage");
    const counters = relayCounters();
    const { log, lines } = capturingLogger();
    relay = new OutboxRelay({
      pool: db!.pool,
      kafka: { brokers: broker!.endpoint, clientId: "jq-outage-test", topic, topicPartitions: 3 },
      log,
      pollMs: 50,
      hooks: counters.hooks,
    });
    await relay.start();
    const load = startLoad(db!.pool, QUEUE, { writers: 3, pauseMs: 5 });

    // Before: events flow.
    await eventually("events flowing", () => counters.relayed > 1_000, 30_000);
    const roundsBefore = load.stats.roundMs.length;

    // Kafka crashes.
    const outageAt = performance.now();
    await broker!.stopServer("SIGKILL");
    await eventually("a failed send", () => counters.failures.some((f) => f.step === "send"), 30_000);
    const relayedAtOutage = counters.relayed;
    const { rows: kept } = await db!.pool.query<{ id: string }>(`SELECT e.id::text FROM job_events e WHERE ${UNRELAYED}`);
    const lagSamples: number[] = [];
    while (performance.now() - outageAt < OUTAGE_MS) {
      lagSamples.push((await relay.lag()).rows);
      await sleep(1_000);
    }
    const lagAtRestart = await relay.lag();
    const roundsDuring = load.stats.roundMs.slice(roundsBefore);

    // Nothing was relayed or deleted while Kafka was down; the outbox only grew.
    expect(counters.relayed).toBe(relayedAtOutage);
    const { rows: stillThere } = await db!.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM job_events e WHERE e.id = ANY($1::bigint[]) AND ${UNRELAYED}`,
      [kept.map((r) => r.id)],
    );
    expect(stillThere[0]!.n).toBe(kept.length);
    expect(lagSamples.every((n, i) => i === 0 || n >= lagSamples[i - 1]!)).toBe(true);
    expect(lagAtRestart.rows).toBeGreaterThan(kept.length);
    expect(lagAtRestart.oldestAgeMs).toBeGreaterThanOrEqual(OUTAGE_MS - 5_000);

    // Writes (dispatch) went on: no failed round while Kafka was down.
    const stats = await load.stop();
    expect(stats.failures).toBe(0);
    expect(roundsDuring.length).toBeGreaterThan(100);

    // Kafka returns; the backlog drains.
    const restartAt = performance.now();
    await broker!.startServer();
    const upAt = performance.now();
    await eventually("outbox drained", async () => (await relay!.lag()).rows === 0, 120_000, 50);
    const drainedAt = performance.now();
    await relay.stop();

    const failedSends = counters.failures.filter((f) => f.step === "send").length;
    const firstAckAfterRestart = counters.acks.find((t) => t > restartAt) ?? Number.NaN;
    const failureLines = lines.filter((l) => l.level === "warn" && l.msg === "outbox relay cannot reach Kafka; events stay in the outbox");
    const kafka = new Kafka({ clientId: "jq-outage-check", brokers: broker!.endpoint, logLevel: logLevel.NOTHING });
    const stored = await storedEvents(db!.pool);
    const report = checkDelivery(await readWholeTopic(kafka, topic), stored);
    console.info(
      [
        `kafka outage: down ${((restartAt - outageAt) / 1000).toFixed(1)} s (SIGKILL), broker restart took ${((upAt - restartAt) / 1000).toFixed(1)} s`,
        `backlog at restart: ${lagAtRestart.rows} events (oldest ${((lagAtRestart.oldestAgeMs ?? 0) / 1000).toFixed(1)} s old); ${kept.length} rows held since the first failure`,
        `drained ${((drainedAt - upAt) / 1000).toFixed(1)} s after the broker was up (${((drainedAt - restartAt) / 1000).toFixed(1)} s after the restart began); ` +
          `first ack ${((firstAckAfterRestart - upAt) / 1000).toFixed(1)} s after the broker was up, then ${((lagAtRestart.rows / (drainedAt - firstAckAfterRestart)) * 1000).toFixed(0)} events/s`,
        `${failedSends} failed sends, ${failureLines.length} warning lines; write rounds ${mean(stats.roundMs.slice(0, roundsBefore)).toFixed(1)} ms before vs ${mean(roundsDuring).toFixed(1)} ms during the outage (${roundsDuring.length} rounds)`,
        `topic: ${report.delivered} distinct events of ${stored.size}, ${report.duplicates} duplicate records`,
      ].join("\n  "),
    );

    expect(report).toMatchObject({ delivered: stored.size, missing: [], unknown: [], splitJobs: [], outOfOrder: [], mismatched: [] });
    // Rate-limited: the first failure, then one line per 30 s.
    expect(failureLines.length).toBeLessThanOrEqual(Math.ceil(OUTAGE_MS / 30_000) + 2);
    expect(lines.some((l) => l.msg === "outbox relay recovered")).toBe(true);
  }, 240_000);
});
