import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { MAX_CHUNK_BYTES } from "../batching/chunks.js";
import { batchLimitsFrom, estimateResultBytes, OutgoingResults } from "./result-batches.js";

function headers(entries: Record<string, string>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

describe("batchLimitsFrom", () => {
  it("batches only when both headers are valid and more than one result is allowed", () => {
    expect(batchLimitsFrom(headers({ "jq-max-results-per-message": "100", "jq-max-message-bytes": "4194304" }))).toEqual({ maxItems: 100, maxBytes: MAX_CHUNK_BYTES });
    expect(batchLimitsFrom(headers({ "jq-max-results-per-message": "2", "jq-max-message-bytes": "1000" }))).toEqual({ maxItems: 2, maxBytes: 500 });
    expect(batchLimitsFrom(headers({}))).toBeUndefined(); // an older server
    expect(batchLimitsFrom(headers({ "jq-max-results-per-message": "1", "jq-max-message-bytes": "4194304" }))).toBeUndefined();
    expect(batchLimitsFrom(headers({ "jq-max-results-per-message": "100" }))).toBeUndefined();
    expect(batchLimitsFrom(headers({ "jq-max-results-per-message": "many", "jq-max-message-bytes": "4194304" }))).toBeUndefined();
    expect(batchLimitsFrom(headers({ "jq-max-results-per-message": "100", "jq-max-message-bytes": "-5" }))).toBeUndefined();
    expect(batchLimitsFrom(headers({ "jq-max-results-per-message": "2.5", "jq-max-message-bytes": "4194304" }))).toBeUndefined();
  });
});

describe("estimateResultBytes", () => {
  it("counts the output's bytes and 3 bytes per character of a failure message", () => {
    expect(estimateResultBytes({ jobId: "j", attempt: 1, outcome: { $case: "success", value: { result: Buffer.alloc(1000) } } })).toBe(1064);
    expect(estimateResultBytes({ jobId: "j", attempt: 1, outcome: { $case: "failure", value: { message: "é".repeat(100) } } })).toBe(364);
  });
});

describe("OutgoingResults", () => {
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it("hands over everything added in one turn together", async () => {
    const writes: string[][] = [];
    const outgoing = new OutgoingResults<string>((items) => writes.push(items));
    outgoing.add("a");
    outgoing.add("b");
    expect(writes).toEqual([]);
    await nextTurn();
    outgoing.add("c");
    await nextTurn();
    expect(writes).toEqual([["a", "b"], ["c"]]);
  });

  it("flush() writes at once and leaves nothing for the scheduled turn; drop() writes nothing", async () => {
    const writes: string[][] = [];
    const outgoing = new OutgoingResults<string>((items) => writes.push(items));
    outgoing.add("a");
    outgoing.flush();
    expect(writes).toEqual([["a"]]);
    outgoing.add("b");
    outgoing.drop();
    await nextTurn();
    expect(writes).toEqual([["a"]]);
  });
});
