import { describe, expect, it } from "vitest";
import { InvalidArgument, LimitExceeded } from "../errors/index.js";
import {
  MAX_INT4,
  validateAttempt,
  validateIdempotencyKey,
  validateMetadata,
  validatePayload,
  validatePriority,
  validateQueueName,
  validateUuid,
} from "./index.js";

const limits = { maxPayloadBytes: 8, maxMetadataBytes: 10, maxMetadataEntries: 2, maxIdempotencyKeyLength: 5 };

describe("queue names", () => {
  it.each(["a", "emails", "billing.v2", "a_b-c.d", "x".repeat(128)])("accepts %s", (n) => expect(validateQueueName(n)).toBe(n));
  it.each(["", "x".repeat(129), "has space", "slash/name", "ünïcode", "semi;colon"])("refuses %j naming the field", (n) => {
    expect(() => validateQueueName(n)).toThrow(InvalidArgument);
    expect(() => validateQueueName(n, "queues[2]")).toThrow(/^queues\[2\]: /);
  });
});

describe("payload and metadata limits", () => {
  it("accepts a payload at the limit and refuses one byte more", () => {
    expect(validatePayload(new Uint8Array(8), limits).byteLength).toBe(8);
    expect(() => validatePayload(new Uint8Array(9), limits)).toThrow(LimitExceeded);
    expect(() => validatePayload(new Uint8Array(9), limits)).toThrow("payload: 9 bytes exceeds the limit of 8 bytes");
  });
  it("bounds metadata entries and total UTF-8 bytes", () => {
    expect(validateMetadata({ a: "b" }, limits)).toEqual({ a: "b" });
    expect(() => validateMetadata({ a: "1", b: "2", c: "3" }, limits)).toThrow("metadata: 3 entries exceeds the limit of 2 entries");
    expect(() => validateMetadata({ k: "é".repeat(5) }, limits)).toThrow("metadata: 11 bytes exceeds the limit of 10 bytes");
  });
  it("refuses empty or control-character keys", () => {
    expect(() => validateMetadata({ "": "x" }, limits)).toThrow(InvalidArgument);
    expect(() => validateMetadata({ "a\nb": "x" }, limits)).toThrow(InvalidArgument);
  });
});

describe("priority, idempotency key, uuid", () => {
  it("accepts the SMALLINT range only", () => {
    expect(validatePriority(-32768)).toBe(-32768);
    expect(validatePriority(32767)).toBe(32767);
    expect(() => validatePriority(32768)).toThrow("priority: must be an integer in [-32768, 32767], got 32768");
    expect(() => validatePriority(1.5)).toThrow(InvalidArgument);
  });
  it("treats an empty idempotency key as none and bounds its length", () => {
    expect(validateIdempotencyKey("", limits)).toBeNull();
    expect(validateIdempotencyKey("abcde", limits)).toBe("abcde");
    expect(() => validateIdempotencyKey("abcdef", limits)).toThrow(LimitExceeded);
  });
  it("normalises UUIDs and names the field on bad input", () => {
    expect(validateUuid("0190F5B2-7C1A-7D3E-8F00-123456789ABC", "job_id")).toBe("0190f5b2-7c1a-7d3e-8f00-123456789abc");
    expect(() => validateUuid("not-a-uuid", "job_id")).toThrow('job_id: must be a UUID, got "not-a-uuid"');
    expect(() => validateUuid("", "job_id")).toThrow("job_id: is required");
  });
});

describe("attempt numbers", () => {
  it.each([1, 7, MAX_INT4])("accepts %s", (n) => expect(validateAttempt(n, "result.attempt")).toBe(n));
  // 4294967295: a uint32 on the wire (a 10-byte varint of -1 decodes to it) that no integer column holds.
  it.each([0, -1, 1.5, MAX_INT4 + 1, 4_294_967_295])("refuses %s naming the field", (n) => {
    expect(() => validateAttempt(n, "result.attempt")).toThrow(InvalidArgument);
    expect(() => validateAttempt(n, "result.attempt")).toThrow(/^result\.attempt: /);
  });
});
