import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { KafkaLink } from "../../libs/outbox/kafka-link.js";
import { createKafka, createTopic, uniqueTopicName } from "../support/kafka.js";
import { capturingLogger } from "../support/outbox-load.js";
import { findFreePort } from "../bed/free-port.js";

// The relay's connection to Kafka (libs/outbox/kafka-link.ts) against the test bed's broker: the
// topic is created with the configured partitions, an existing one is kept as it is (a different
// partition count is logged, never changed), a reset while the producer connects fails that send
// only, and kafkajs's own chatter goes to debug.

const RECORD = [{ key: "job-1", value: Buffer.from("event") }];

describe("kafka link", () => {
  const kafka = createKafka("jq-kafka-link-test");
  let admin: Admin;
  const links: KafkaLink[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.allSettled(links.map((l) => l.close()));
    await admin.disconnect();
  });

  const linkTo = (topic: string, topicPartitions: number, brokers = inject("testBed").kafkaBrokers) => {
    const logger = capturingLogger("debug");
    const link = new KafkaLink({ brokers, clientId: "jq-kafka-link-test", topic, topicPartitions }, logger.log, { retry: { retries: 0 } });
    links.push(link);
    return { link, lines: logger.lines };
  };
  const partitionsOf = async (topic: string) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
  const recordsIn = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const topicLines = (lines: Record<string, unknown>[]) => lines.filter((l) => typeof l.msg === "string" && /event topic/.test(l.msg));

  it("creates a missing topic with the configured partitions before the first send", async () => {
    const topic = uniqueTopicName("link_new");
    const { link, lines } = linkTo(topic, 3);
    await link.send(RECORD);
    expect(await partitionsOf(topic)).toBe(3);
    expect(await recordsIn(topic)).toBe(1);
    expect(topicLines(lines)).toMatchObject([{ level: "info", msg: "created the event topic", topic, partitions: 3 }]);
  });

  it("keeps an existing topic with another partition count, says so once, and sends to it", async () => {
    const topic = await createTopic(admin, uniqueTopicName("link_other"), 2);
    const { link, lines } = linkTo(topic, 4);
    await link.send(RECORD);
    await link.send(RECORD);
    expect(await partitionsOf(topic)).toBe(2);
    expect(await recordsIn(topic)).toBe(2);
    expect(topicLines(lines)).toMatchObject([
      { level: "warn", msg: "event topic exists with a different partition count; keeping it", topic, partitions: 2, configured: 4 },
    ]);
  });

  it("uses an existing topic with the configured partition count without a word", async () => {
    const topic = await createTopic(admin, uniqueTopicName("link_same"), 2);
    const { link, lines } = linkTo(topic, 2);
    await link.send(RECORD);
    expect(await recordsIn(topic)).toBe(1);
    expect(topicLines(lines)).toEqual([]);
  });

  it("fails the send a reset overtakes while the producer connects, and connects a new one for the next", async () => {
    const topic = uniqueTopicName("link_reset");
    const { link } = linkTo(topic, 1);
    await link.send(RECORD);
    await link.reset();
    // send() has created the new producer and is waiting for it to connect when it returns.
    const overtaken = link.send(RECORD);
    await link.reset();
    await expect(overtaken).rejects.toThrow();
    await link.send(RECORD);
    expect(await recordsIn(topic)).toBe(2);
  });

  it("logs kafkajs's own lines at debug, tagged with their namespace, and fails a send to a broker that refuses", async () => {
    // A port nothing listens on: every connection is refused at once.
    const port = await findFreePort();

    const { link, lines } = linkTo(uniqueTopicName("link_refused"), 1, [`127.0.0.1:${port}`]);
    await expect(link.send(RECORD)).rejects.toThrow();
    const kafkajsLines = lines.filter((l) => l.kafkajs !== undefined);
    expect(kafkajsLines.length).toBeGreaterThan(0);
    expect(kafkajsLines.every((l) => l.level === "debug" && typeof l.kafkajs === "string" && l.kafkajsLevel === "ERROR" && typeof l.msg === "string")).toBe(true);
    expect(kafkajsLines.some((l) => /ECONNREFUSED|connect/i.test(String(l.msg)))).toBe(true);
    expect(lines.filter((l) => l.level !== "debug")).toEqual([]);
  });

  it("leaves an idle, connected producer without kafkajs's 1 ms polling timer, and it still sends", async () => {
    const topic = await createTopic(admin, uniqueTopicName("link_idle"));
    const { link } = linkTo(topic, 1);
    await link.send(RECORD);
    const timers = vi.spyOn(globalThis, "setTimeout");
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const before = timers.mock.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Unpatched, every connection of the link re-arms a 1 ms timer: hundreds in 300 ms.
      expect(timers.mock.calls.length - before).toBeLessThan(20);
    } finally {
      timers.mockRestore();
    }
    await link.send(RECORD);
    expect(await recordsIn(topic)).toBe(2);
  });
});
