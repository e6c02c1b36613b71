/**
 * libs/outbox — relays the event log (`job_events`, which is the outbox) to Kafka, in order, and
 * moves a durable cursor past what Kafka acknowledged (SPEC §6). Design, guarantees and failure
 * behaviour: docs/outbox.md.
 *
 * Owns the relay's reads of the log, its cursor in `relay_cursors` and its Kafka clients. Must not
 * write events (every state change writes its own, in its transaction), and must not run anywhere
 * but on the scheduler leader.
 */
export { createOutboxRelay } from "./create-outbox-relay.js";
export { OutboxRelay, type OutboxRelayHooks, type OutboxRelayOptions } from "./outbox-relay.js";
export type { OutboxKafkaSettings } from "./kafka-link.js";
export { EVENT_TYPE_HEADER } from "./kafka-records.js";
export { measureOutboxLag, type OutboxLag } from "./outbox-store.js";
export type { RelayStep } from "./relay-failures.js";
