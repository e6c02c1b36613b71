/**
 * libs/outbox — relays the transactional outbox (`outbox` → `job_events`) to Kafka, in order, and
 * deletes what Kafka acknowledged (SPEC §6). Design, guarantees and failure behaviour:
 * docs/outbox.md.
 *
 * Owns the relay's reads and deletes of `outbox` and its Kafka clients. Must not write events
 * (every state change writes its own, in its transaction), and must not run anywhere but on the
 * scheduler leader.
 */
export { createOutboxRelay } from "./create-outbox-relay.js";
export { OutboxRelay, type OutboxRelayHooks, type OutboxRelayOptions } from "./outbox-relay.js";
export type { OutboxKafkaSettings } from "./kafka-link.js";
export { EVENT_TYPE_HEADER } from "./kafka-records.js";
export { measureOutboxLag, type OutboxLag } from "./outbox-store.js";
export type { RelayStep } from "./relay-failures.js";
