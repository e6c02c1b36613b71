import type { Config } from "../../../libs/config/index.js";
import type { ScanLimits } from "./request-scanner.js";

/** Jobs a worker may hold (concurrency ≤ 1000) plus results waiting for their ack. */
const MAX_HELD_JOBS = 10_000;
/** A filter by status or reason names each enum value at most once; 64 leaves room. */
const MAX_ENUM_FILTER = 64;
export const DEFAULT_STRING_BYTES = 64 * 1024;
/** Failure messages are cut to 4096 characters when stored; up to 1 MiB is accepted (and cut). */
const FAILURE_MESSAGE_BYTES = 1024 * 1024;
const MAX_UNKNOWN_FIELDS = 1000;
/** Results in one ReportResults message (a worker holds at most 1000 jobs); announced to workers. */
export const MAX_RESULTS_PER_MESSAGE = 1000;

/**
 * The per-request caps the edge applies before decoding (docs/security.md, "Request limits"):
 * repeated items per RPC, string sizes, unknown fields.
 */
export function requestScanLimits(limits: Config["limits"]): ScanLimits {
  const entries = limits.maxMetadataEntries;
  return {
    itemsByField: new Map([
      ["jq.v1.SubmitJobsRequest.jobs", limits.maxBatchSize],
      ["jq.v1.SubmitJobRequest.metadata", entries],
      ["jq.v1.CreateScheduleRequest.metadata", entries],
      ["jq.v1.RegisterWorkerRequest.labels", entries],
      ["jq.v1.RegisterWorkerRequest.queues", 100],
      ["jq.v1.HeartbeatRequest.held_jobs", MAX_HELD_JOBS],
      ["jq.v1.ListJobsRequest.statuses", MAX_ENUM_FILTER],
      ["jq.v1.ListWorkersRequest.statuses", MAX_ENUM_FILTER],
      ["jq.v1.DeadLetterSelector.reasons", MAX_ENUM_FILTER],
      ["jq.v1.DeadLetterSelector.job_ids", limits.maxBatchSize],
      ["jq.v1.ReportResultsRequest.results", MAX_RESULTS_PER_MESSAGE],
    ]),
    // One malformed result of a batch is acked INVALID; the others are recorded.
    isolatedItems: new Set(["jq.v1.ReportResultsRequest.results"]),
    defaultItems: limits.maxBatchSize,
    stringBytesByField: new Map([["jq.v1.JobFailure.message", FAILURE_MESSAGE_BYTES]]),
    defaultStringBytes: DEFAULT_STRING_BYTES,
    unknownFields: MAX_UNKNOWN_FIELDS,
  };
}
