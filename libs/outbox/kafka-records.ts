import type { Message } from "kafkajs";
import { eventToProto } from "../wire/to-wire.js";
import { JobEvent } from "../proto/index.js";
import type { LogPosition, OutboxRow } from "./outbox-store.js";

/** Name of the record header that carries the event type (SPEC §6). */
export const EVENT_TYPE_HEADER = "type";

/** A Kafka record for one event, with what the relay needs to account for it. */
export interface OutboxMessage {
  /** The event's place in the log: the cursor moves here once Kafka acknowledged it. */
  readonly position: LogPosition;
  readonly message: Message;
  /** Approximate size on the wire, for keeping one produce request under the broker's limit. */
  readonly bytes: number;
}

/** Per-record overhead on top of key, value and header bytes (varints, attributes, offsets). */
const RECORD_OVERHEAD_BYTES = 32;

/**
 * The record of SPEC §6: key = job id (so all of a job's events share a partition), value = the
 * `JobEvent` protobuf, header `type` = the stored `event_type` (`job.submitted`, …), which is what
 * `jobEventTypeHeader()` yields for the event's type and also covers a type this build would not
 * know. The record timestamp is left to the producer (send time): a backlog sent after an outage
 * must not look days old to the topic's time-based retention. `occurred_at` is in the value.
 */
export function toOutboxMessage(row: OutboxRow): OutboxMessage {
  const encoded = JobEvent.encode(eventToProto(row)).finish();
  const value = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const bytes = Buffer.byteLength(row.jobId) + value.byteLength + EVENT_TYPE_HEADER.length + Buffer.byteLength(row.eventType) + RECORD_OVERHEAD_BYTES;
  return { position: row.position, message: { key: row.jobId, value, headers: { [EVENT_TYPE_HEADER]: row.eventType } }, bytes };
}

/**
 * Splits messages, in order, into runs of at most `maxBytes` each (a message larger than that
 * travels alone). Each run becomes one produce request, acknowledged before the next is sent, so
 * no partition's batch can exceed the broker's `message.max.bytes` (1 MiB by default) even when
 * failure messages are long.
 */
export function chunkBySize<T extends { readonly bytes: number }>(items: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    if (current.length > 0 && size + item.bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
