import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRequestSchemas, type WireField, type WireMessage } from "../../apps/api/edge/wire-schema.js";
import { startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { rawServerStream, rawUnary } from "../support/raw-grpc.js";
import { lfield, varint } from "../support/wire.js";

const RUNS_PER_METHOD = 60;
const FORBIDDEN = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN]);

/**
 * Values a hostile client would try, mixed with plausible ones (an existing queue, a UUID, small
 * numbers) so that requests get past the first check and their hostile parts reach deeper code.
 */
const plausibleText = fc.constantFrom("q1", "0190f5b2-7c1a-7d3e-8f00-123456789abc", "", "name", "0 * * * *");
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("\0", "a\0b", "__proto__", "constructor", "toString", "x".repeat(300), "'; DROP TABLE jobs; --", "\uD800"),
  fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)),
);
const text = fc.oneof({ weight: 2, arbitrary: plausibleText }, { weight: 1, arbitrary: hostileText });
const hostileVarint = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.constantFrom(-1n, 999_999_999n, 1_000_000_000n, 2n ** 31n, -(2n ** 31n), 253_402_300_800n, -62_135_596_801n, 9_000_000_000_000n),
);
const number_ = fc.oneof({ weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 3n }) }, { weight: 1, arbitrary: hostileVarint });

/** Wire bytes of one message of `type`, each field absent, once or (repeated) a few times. */
function messageBytes(type: WireMessage, depth: number): fc.Arbitrary<Buffer> {
  if (depth > 3) return fc.constant(Buffer.alloc(0));
  if (type.fullName === "google.protobuf.Timestamp" || type.fullName === "google.protobuf.Duration") {
    return fc.tuple(hostileVarint, fc.oneof(fc.bigInt({ min: 0n, max: 999_999_999n }), hostileVarint)).map(([s, n]) => Buffer.concat([varint(8), varint(s), varint(16), varint(n)]));
  }
  const fields = [...type.fields].map(([number, field]) =>
    field.repeated
      ? fc.array(fieldBytes(number, field, depth), { maxLength: 3 }).map((parts) => Buffer.concat(parts))
      : fc.option(fieldBytes(number, field, depth), { freq: 4, nil: Buffer.alloc(0) }),
  );
  return fc.tuple(...fields).map((parts) => Buffer.concat(parts));
}

function fieldBytes(number: number, field: WireField, depth: number): fc.Arbitrary<Buffer> {
  switch (field.type) {
    case "TYPE_STRING":
      // Name an existing queue most of the time, so the rest of the request is looked at.
      if (field.name === "queue" || field.name === "queues") return fc.oneof({ weight: 4, arbitrary: fc.constant("q1") }, { weight: 1, arbitrary: hostileText }).map((t) => lfield(number, t));
      return text.map((t) => lfield(number, t));
    case "TYPE_BYTES":
      return fc.uint8Array({ maxLength: 32 }).map((b) => lfield(number, Buffer.from(b)));
    case "TYPE_MESSAGE":
      return field.message ? messageBytes(field.message, depth + 1).map((b) => lfield(number, b)) : fc.constant(Buffer.alloc(0));
    case "TYPE_DOUBLE":
    case "TYPE_FIXED64":
    case "TYPE_SFIXED64":
      return fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.concat([varint(number * 8 + 1), Buffer.from(b)]));
    case "TYPE_FLOAT":
    case "TYPE_FIXED32":
    case "TYPE_SFIXED32":
      return fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.concat([varint(number * 8 + 5), Buffer.from(b)]));
    default:
      return number_.map((v) => Buffer.concat([varint(number * 8), varint(v)]));
  }
}

/** Structured hostile messages most of the time, arbitrary bytes (often undecodable) otherwise. */
function requestBytes(type: WireMessage): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 4, arbitrary: messageBytes(type, 0) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  );
}

function bidiOnce(address: string, path: string, request: Buffer): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, new grpc.Metadata(), { deadline: Date.now() + 3000 });
    call.on("data", () => {});
    call.on("error", (e: grpc.ServiceError) => {
      client.close();
      resolve(e);
    });
    call.on("end", () => {
      client.close();
      resolve(null);
    });
    call.write(request);
    call.end();
  });
}

/**
 * Issue 13 item 4: a property over every request message of every RPC, against a real apps/api —
 * whatever bytes arrive, the answer is never INTERNAL or UNKNOWN (bad input is the caller's error,
 * named by a precise code).
 */
describe("no request of any RPC produces INTERNAL or UNKNOWN", () => {
  let db: TestDatabase;
  let api: RunningApi;
  const schemas = loadRequestSchemas();

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url);
    const c = api.client();
    await c.call(c.admin, "createQueue", { name: "q1", paused: false, settings: {} });
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  it("covers every method of the contract", () => {
    expect(schemas.size).toBe(31);
  });

  it.each([...schemas.keys()])("%s", async (path) => {
    const method = path.split("/")[2]!;
    const kind = method === "ReportResults" ? "bidi" : method === "StreamJobs" || method === "WatchJob" ? "stream" : "unary";
    await fc.assert(
      fc.asyncProperty(requestBytes(schemas.get(path)!), async (bytes) => {
        const error =
          kind === "unary"
            ? (await rawUnary(api.address, path, bytes)).error
            : kind === "stream"
              ? (await rawServerStream(api.address, path, bytes, new grpc.Metadata(), 1000)).error
              : await bidiOnce(api.address, path, bytes);
        if (error && FORBIDDEN.has(error.code)) throw new Error(`${grpc.status[error.code]}: ${error.details}`);
      }),
      { numRuns: RUNS_PER_METHOD },
    );
    expect(api.app.child.exitCode).toBeNull();
  });
});
