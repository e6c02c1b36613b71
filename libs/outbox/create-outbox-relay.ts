import type { Config } from "../config/index.js";
import { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay.js";

/**
 * The relay for this configuration, or undefined when no Kafka is configured: then there is no
 * relay at all and events stay in the outbox (SPEC §10) until one is.
 */
export function createOutboxRelay(config: Pick<Config, "kafka">, options: Omit<OutboxRelayOptions, "kafka">): OutboxRelay | undefined {
  if (config.kafka === undefined) return undefined;
  return new OutboxRelay({ ...options, kafka: config.kafka });
}
