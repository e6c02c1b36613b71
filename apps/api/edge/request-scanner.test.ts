import { describe, expect, it } from "vitest";
import { JqError } from "../../../libs/errors/index.js";
import { ReportResultsRequest, SubmitJobRequest, type JobResult } from "../../../libs/proto/index.js";
import { requestScanLimits } from "./request-limits.js";
import { countTopLevel, scanRequest } from "./request-scanner.js";
import { loadRequestSchemas } from "./wire-schema.js";

const schemas = loadRequestSchemas();
const limits = requestScanLimits({ maxBatchSize: 1000, maxMetadataEntries: 64 } as Parameters<typeof requestScanLimits>[0]);
const results = schemas.get("/jq.v1.WorkerService/ReportResults")!;
const submit = schemas.get("/jq.v1.JobService/SubmitJob")!;

const encodeResults = (m: Partial<ReportResultsRequest>) => ReportResultsRequest.encode({ sequence: "0", workerId: "", result: undefined, results: [], ...m }).finish();
const failure = (message: string): JobResult => ({ jobId: "j", attempt: 1, outcome: { $case: "failure", value: { message } } });

describe("scanRequest", () => {
  it("refuses one item of an isolated field alone and returns it by index", () => {
    const bytes = encodeResults({ workerId: "w", results: [{ sequence: "1", result: failure("fine") }, { sequence: "2", result: failure("bad\0") }, { sequence: "3", result: failure("fine") }] });
    const refused = scanRequest(bytes, results, limits);
    expect([...(refused ?? new Map<number, JqError>())].map(([i, e]) => [i, e.message])).toEqual([[1, "results[1].result.failure.message: contains a NUL character"]]);
  });

  it("still refuses the whole message for its shared fields and for too many isolated items", () => {
    expect(() => scanRequest(encodeResults({ workerId: "w\0", results: [{ sequence: "1", result: failure("x") }] }), results, limits)).toThrow(/^worker_id: contains a NUL/);
    const many = encodeResults({ workerId: "w", results: Array.from({ length: 1001 }, (_, i) => ({ sequence: String(i + 1) })) });
    expect(() => scanRequest(many, results, limits)).toThrow(/^results: /);
  });

  it("refuses a bad value of a field that is not isolated as before (nothing returned)", () => {
    const bytes = SubmitJobRequest.encode(SubmitJobRequest.fromPartial({ queue: "q", metadata: { k: "v\0" } })).finish();
    expect(() => scanRequest(bytes, submit, limits)).toThrow(/^metadata\["k"\]\.value: contains a NUL/);
    expect(scanRequest(SubmitJobRequest.encode(SubmitJobRequest.fromPartial({ queue: "q" })).finish(), submit, limits)).toBeUndefined();
  });

  it("skips an unknown length-delimited field inside a Timestamp", () => {
    // run_at (field 12) = Timestamp { seconds: 1, field 3: "xyz" }
    const runAt = Buffer.from([0x08, 0x01, 0x1a, 0x03, 0x78, 0x79, 0x7a]);
    const bytes = Buffer.concat([Buffer.from([0x0a, 0x01, 0x71]), Buffer.from([0x62, runAt.length]), runAt]);
    expect(() => scanRequest(bytes, submit, limits)).not.toThrow();
  });
});

describe("countTopLevel", () => {
  it("counts a top-level field's items past fields of every wire type", () => {
    const bytes = encodeResults({ sequence: "7", workerId: "w", result: failure("x"), results: [{ sequence: "1" }, { sequence: "2" }] });
    expect(countTopLevel(bytes, 4)).toBe(2);
    expect(countTopLevel(bytes, 3)).toBe(1);
  });
});
