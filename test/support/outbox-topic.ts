import type { IHeaders, Kafka } from "kafkajs";
import type pg from "pg";
import { JobEvent, jobEventTypeHeader, JobStatus, TransitionReason } from "../../libs/proto/index.js";
import { uniqueTopicName } from "./kafka.js";

// Reading the event topic back and checking it against job_events: what a consumer of jq's
// events would see.

export interface ReceivedEvent {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string;
  /** The `type` header. */
  readonly type: string | undefined;
  readonly event: JobEvent;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? String(value[0]) : String(value);
}

/**
 * Every record on `topic`, from the beginning up to its current end (fetched first: call this once
 * nothing produces any more), ordered by partition and offset.
 */
export async function readWholeTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<ReceivedEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
  const received: ReceivedEvent[] = [];
  const next = new Map<number, bigint>([...ends.keys()].map((p) => [p, 0n]));
  const done = () => [...ends].every(([p, end]) => (next.get(p) ?? 0n) >= end);
  if (done()) return received;

  const consumer = kafka.consumer({ groupId: uniqueTopicName("outbox_check"), maxBytes: 8 << 20 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${received.length} records of ${topic} in ${timeoutMs} ms, not all`)), timeoutMs);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              received.push({
                partition: batch.partition,
                offset: BigInt(m.offset),
                key: m.key?.toString() ?? "",
                type: header(m.headers, "type"),
                event: JobEvent.decode(m.value ?? Buffer.alloc(0)),
              });
              next.set(batch.partition, BigInt(m.offset) + 1n);
            }
            if (done()) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return received.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
}

interface StoredEvent {
  id: string;
  job_id: string;
  queue: string;
  event_type: string;
  from_status: string | null;
  to_status: string;
  reason: string;
  worker_id: string | null;
  attempt: number;
  message: string | null;
  created_at: Date;
}

/** Every row of job_events, by id. */
export async function storedEvents(pool: pg.Pool): Promise<Map<string, StoredEvent>> {
  const { rows } = await pool.query<StoredEvent>(
    "SELECT id::text, job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message, created_at FROM job_events ORDER BY id",
  );
  return new Map(rows.map((r) => [r.id, r]));
}

export interface DeliveryReport {
  /** Distinct events on the topic. */
  readonly delivered: number;
  /** Events in job_events never seen on the topic. */
  readonly missing: string[];
  /** Records that repeat an event already seen (at-least-once). */
  readonly duplicates: number;
  /** Events on the topic that job_events does not have. */
  readonly unknown: string[];
  /** Jobs whose events went to more than one partition. */
  readonly splitJobs: string[];
  /** Per job, an event whose first appearance follows a later event of the same job. */
  readonly outOfOrder: string[];
  /** Records whose key, header or value disagrees with the stored event. */
  readonly mismatched: string[];
}

/**
 * Compares the topic with job_events: everything delivered, nothing unknown, per job one
 * partition and first appearances in strictly increasing event id, every record's key, `type`
 * header and JobEvent fields equal to the stored row.
 */
export function checkDelivery(received: readonly ReceivedEvent[], stored: ReadonlyMap<string, StoredEvent>): DeliveryReport {
  const seen = new Set<string>();
  let duplicates = 0;
  const unknown: string[] = [];
  const mismatched: string[] = [];
  const partitionOfJob = new Map<string, number>();
  const splitJobs = new Set<string>();
  const lastOfJob = new Map<string, bigint>();
  const outOfOrder: string[] = [];

  for (const r of received) {
    const e = r.event;
    const row = stored.get(e.eventId);
    if (row === undefined) {
      unknown.push(e.eventId);
      continue;
    }
    const problem = recordProblem(r, row);
    if (problem !== undefined) mismatched.push(`${e.eventId}: ${problem}`);

    const partition = partitionOfJob.get(e.jobId);
    if (partition === undefined) partitionOfJob.set(e.jobId, r.partition);
    else if (partition !== r.partition) splitJobs.add(e.jobId);

    if (seen.has(e.eventId)) {
      duplicates += 1;
      continue;
    }
    seen.add(e.eventId);
    const id = BigInt(e.eventId);
    const last = lastOfJob.get(e.jobId);
    if (last !== undefined && id <= last) outOfOrder.push(`${e.jobId}: ${e.eventId} after ${last}`);
    lastOfJob.set(e.jobId, id);
  }
  const missing = [...stored.keys()].filter((id) => !seen.has(id));
  return { delivered: seen.size, missing, duplicates, unknown, splitJobs: [...splitJobs], outOfOrder, mismatched };
}

function recordProblem(r: ReceivedEvent, row: StoredEvent): string | undefined {
  const e = r.event;
  const checks: [string, unknown, unknown][] = [
    ["key", r.key, row.job_id],
    ["job id", e.jobId, row.job_id],
    ["type header", r.type, row.event_type],
    ["type header vs value", r.type, jobEventTypeHeader(e.type)],
    ["queue", e.queue, row.queue],
    ["from", e.fromStatus === JobStatus.UNSPECIFIED ? null : JobStatus[e.fromStatus], row.from_status],
    ["to", JobStatus[e.toStatus], row.to_status],
    ["reason", TransitionReason[e.reason], row.reason],
    ["attempt", e.attempt, row.attempt],
    ["worker", e.workerId, row.worker_id ?? ""],
    ["message", e.message, row.message ?? ""],
    ["occurred at", e.occurredAt?.getTime(), row.created_at.getTime()],
  ];
  const wrong = checks.filter(([, got, want]) => got !== want);
  return wrong.length === 0 ? undefined : wrong.map(([what, got, want]) => `${what} ${String(got)} ≠ ${String(want)}`).join(", ");
}
