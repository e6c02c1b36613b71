import { Kafka, logLevel, Partitioners, type Admin, type KafkaConfig, type LogEntry, type Message, type Producer } from "kafkajs";
import type { Logger } from "../logging/logger.js";
import { stopIdleRequestQueueTimers } from "./kafkajs-idle-timer.js";

/** Where events go: `config.kafka` (SPEC §6, §10). */
export interface OutboxKafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topic: string;
  /** Partitions of the topic when the relay has to create it. */
  readonly topicPartitions: number;
}

/**
 * Client-level defaults: short connection and request timeouts and a small retry budget, so one
 * `send` against a dead broker fails within a few seconds and the relay's own loop (which logs,
 * counts and backs off) takes over, and so `stop()` never waits long for a send in flight.
 */
const CLIENT_DEFAULTS: Partial<KafkaConfig> = {
  connectionTimeout: 3_000,
  requestTimeout: 10_000,
  retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
};

/**
 * The relay's connection to Kafka: one idempotent producer (acks from all in-sync replicas, one
 * request in flight, so a retried request can neither duplicate nor reorder records), created
 * lazily and thrown away by `reset()` when it keeps failing, and a short-lived admin client that
 * creates the topic before the first send.
 */
export class KafkaLink {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private topicChecked = false;

  constructor(
    private readonly settings: OutboxKafkaSettings,
    private readonly log: Logger,
    client: Partial<KafkaConfig> = {},
  ) {
    stopIdleRequestQueueTimers();
    this.kafka = new Kafka({
      ...CLIENT_DEFAULTS,
      ...client,
      clientId: settings.clientId,
      brokers: [...settings.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => this.kafkajsLog(entry),
    });
  }

  /** Sends `messages` to the topic and resolves once every in-sync replica has them. */
  async send(messages: Message[]): Promise<void> {
    const producer = await this.connectedProducer();
    await producer.send({ topic: this.settings.topic, acks: -1, messages });
  }

  /** Drops the producer; the next send connects a new one (with a new producer id). */
  async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => {});
  }

  /** Disconnects the producer and an admin client still creating the topic. */
  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await Promise.all([this.reset(), admin?.disconnect().catch(() => {})]);
  }

  private async connectedProducer(): Promise<Producer> {
    if (!this.topicChecked) {
      await this.ensureTopic();
      this.topicChecked = true;
    }
    if (this.producer !== undefined) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java's murmur2 partitioner, so every client maps a job id to the same partition.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Without this kafkajs retries an idempotent send forever; see CLIENT_DEFAULTS.
      retry: { retries: 5 },
    });
    this.producer = producer;
    try {
      await producer.connect();
    } catch (err) {
      if (this.producer === producer) this.producer = undefined;
      await producer.disconnect().catch(() => {});
      throw err;
    }
    if (this.producer !== producer) {
      // reset() or close() ran while this one was connecting.
      await producer.disconnect().catch(() => {});
      throw new Error("producer was reset while connecting");
    }
    return producer;
  }

  /**
   * Creates the topic with `topicPartitions` partitions and the broker's default replication
   * factor (-1: `default.replication.factor`), and waits for its leaders. An existing topic is
   * kept as it is (a different partition count is logged, never changed: that would move keys).
   * A client not allowed to create topics goes on if the topic exists.
   */
  private async ensureTopic(): Promise<void> {
    const { topic, topicPartitions } = this.settings;
    const admin = this.kafka.admin();
    this.admin = admin;
    try {
      await admin.connect();
      let created: boolean;
      try {
        created = await admin.createTopics({
          topics: [{ topic, numPartitions: topicPartitions, replicationFactor: -1 }],
          waitForLeaders: true,
        });
      } catch (err) {
        const partitions = await partitionCount(admin, topic).catch(() => undefined);
        if (partitions === undefined) throw err;
        this.log.warn({ topic, partitions, err: (err as Error).message }, "could not create the event topic, but it exists; using it");
        return;
      }
      if (created) {
        this.log.info({ topic, partitions: topicPartitions }, "created the event topic");
        return;
      }
      const partitions = await partitionCount(admin, topic);
      if (partitions !== topicPartitions) {
        this.log.warn({ topic, partitions, configured: topicPartitions }, "event topic exists with a different partition count; keeping it");
      }
    } finally {
      if (this.admin === admin) this.admin = undefined;
      await admin.disconnect().catch(() => {});
    }
  }

  /**
   * kafkajs logs every retry of every request; during an outage that is a line per retry. The
   * relay logs failures itself, rate-limited, so kafkajs's own lines go to debug.
   */
  private kafkajsLog({ namespace, label, log }: LogEntry): void {
    const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
    this.log.debug({ kafkajs: namespace, kafkajsLevel: label, ...fields }, message);
  }
}

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const found = topics.find((t) => t.name === topic);
  if (found === undefined) throw new Error(`topic ${topic} not found`);
  return found.partitions.length;
}
