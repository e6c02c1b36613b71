import { describe, expect, it } from "vitest";
import { JobEvent, JobEventType, JobStatus, TransitionReason } from "../proto/index.js";
import { chunkBySize, EVENT_TYPE_HEADER, toOutboxMessage } from "./kafka-records.js";
import type { OutboxRow } from "./outbox-store.js";

const row: OutboxRow = {
  position: { xid: "900", id: "17" },
  id: "42",
  jobId: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  queue: "emails",
  eventType: "job.retry_scheduled",
  fromStatus: "FAILED",
  toStatus: "PENDING",
  reason: "RETRY_SCHEDULED",
  workerId: "0190a1b2-c3d4-7e5f-8a9b-000000000001",
  attempt: 3,
  message: "retry 1 of 3",
  createdAt: new Date("2026-01-02T03:04:05.678Z"),
};

describe("outbox row → Kafka record (SPEC §6)", () => {
  it("keys by job id, carries the JobEvent protobuf and the stored type as header `type`", () => {
    const { position, message, bytes } = toOutboxMessage(row);
    expect(position).toEqual({ xid: "900", id: "17" });
    expect(message.key).toBe(row.jobId);
    expect(message.headers).toEqual({ [EVENT_TYPE_HEADER]: "job.retry_scheduled" });
    expect(message.timestamp).toBeUndefined();
    expect(JobEvent.decode(message.value as Buffer)).toEqual({
      eventId: "42",
      jobId: row.jobId,
      queue: "emails",
      type: JobEventType.RETRY_SCHEDULED,
      fromStatus: JobStatus.FAILED,
      toStatus: JobStatus.PENDING,
      reason: TransitionReason.RETRY_SCHEDULED,
      attempt: 3,
      workerId: row.workerId,
      message: "retry 1 of 3",
      occurredAt: row.createdAt,
    });
    // key + value + header name and value + 32 bytes of record framing
    expect(bytes).toBe(row.jobId.length + (message.value as Buffer).byteLength + "type".length + "job.retry_scheduled".length + 32);
  });

  it("maps a first event's missing from-status and worker to the proto's empty values", () => {
    const first = toOutboxMessage({ ...row, eventType: "job.submitted", fromStatus: null, toStatus: "PENDING", reason: "SUBMITTED", workerId: null, message: null, attempt: 0 });
    expect(JobEvent.decode(first.message.value as Buffer)).toMatchObject({ type: JobEventType.SUBMITTED, fromStatus: JobStatus.UNSPECIFIED, workerId: "", message: "" });
  });
});

describe("chunkBySize", () => {
  const items = (...sizes: number[]) => sizes.map((bytes, i) => ({ i, bytes }));
  const ids = (chunks: { i: number }[][]) => chunks.map((c) => c.map((x) => x.i));

  it("keeps order and fills each chunk up to the limit", () => {
    expect(ids(chunkBySize(items(40, 40, 20, 30, 70, 10), 100))).toEqual([[0, 1, 2], [3, 4], [5]]);
  });
  it("sends an item bigger than the limit alone", () => {
    expect(ids(chunkBySize(items(10, 500, 10), 100))).toEqual([[0], [1], [2]]);
    expect(ids(chunkBySize(items(500, 10), 100))).toEqual([[0], [1]]); // first, with no empty chunk before it
  });
  it("returns nothing for nothing", () => {
    expect(chunkBySize([], 100)).toEqual([]);
  });
});
