import { Kafka, logLevel, type Admin, type KafkaConfig } from "kafkajs";
import { inject } from "vitest";
import { stopIdleRequestQueueTimers } from "../../libs/outbox/kafkajs-idle-timer.js";
import { uniqueTestName } from "./unique-name.js";

// Kafka clients on the test bed's broker. Tests isolate by topic: each creates its own with a
// unique name (never relying on auto-creation, which the local broker has switched off).

/** A kafkajs client for the bed's brokers; silent unless `level` says otherwise. */
export function createKafka(clientId = "jq-test", level: logLevel = logLevel.NOTHING, config: Partial<KafkaConfig> = {}): Kafka {
  stopIdleRequestQueueTimers(); // as the relay does: no 1 ms timer per idle connection
  return new Kafka({ clientId, brokers: inject("testBed").kafkaBrokers, logLevel: level, ...config });
}

/** `jq_t_<base>_<random>`, a topic name no other test uses. */
export function uniqueTopicName(base = "topic"): string {
  return uniqueTestName(base);
}

/**
 * Creates `name` with `partitions` partitions and resolves once every partition has a leader,
 * so a producer can write to it immediately.
 */
export async function createTopic(admin: Admin, name: string, partitions = 1): Promise<string> {
  const created = await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
  if (!created) throw new Error(`topic ${name} already exists`);
  return name;
}
