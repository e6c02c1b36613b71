import { chunkByLimits, messageChunkLimits, type ChunkLimits } from "../../../libs/batching/chunks.js";
import type { ClaimedJob } from "../../../libs/dispatch/index.js";
import type { JobAssignment, StreamJobsRequest, StreamJobsResponse } from "../../../libs/proto/index.js";
import { MAX_WORKER_CONCURRENCY } from "./worker-requests.js";

/** How a job stream takes assignments: up to `maxItems` per message and about `maxBytes` of them. */
export type AssignmentBatching = ChunkLimits;

/** Older workers (and any that did not ask): every assignment alone in `assignment`. */
export const ONE_PER_MESSAGE: AssignmentBatching = { maxItems: 1, maxBytes: 0 };

/** Assignments in one message: no more than a worker may hold. */
const MAX_ITEMS = MAX_WORKER_CONCURRENCY;

/** What a StreamJobs request asked for (StreamJobsRequest.max_assignments_per_message), within our limits. */
export function assignmentBatching(req: StreamJobsRequest, maxMessageBytes: number): AssignmentBatching {
  const asked = req.maxAssignmentsPerMessage;
  if (asked <= 1) return ONE_PER_MESSAGE;
  // A job bigger than the byte budget goes alone (chunkByLimits).
  return messageChunkLimits(Math.min(asked, MAX_ITEMS), maxMessageBytes);
}

/**
 * The stream messages for jobs claimed together, in claim order, each with the jobs it carries
 * (a failed write hands those back). The deadline is counted from the claim; the database's
 * deadline starts a moment later, at the RUNNING mark, so a worker stopping at this one is never late.
 */
export function assignmentMessages(
  jobs: readonly ClaimedJob[],
  claimedAt: number,
  batching: AssignmentBatching,
): { readonly message: StreamJobsResponse; readonly jobs: readonly ClaimedJob[] }[] {
  if (batching.maxItems <= 1) return jobs.map((job) => ({ message: { kind: { $case: "assignment", value: assignment(job, claimedAt) } }, jobs: [job] }));
  return chunkByLimits(jobs, estimatedBytes, batching).map((part) => ({
    message: { kind: { $case: "assignments", value: { assignments: part.map((j) => assignment(j, claimedAt)) } } },
    jobs: part,
  }));
}

/** An upper bound of a job's encoded assignment: payload, metadata (UTF-16 units × 3), ids and times. */
function estimatedBytes(job: ClaimedJob): number {
  let bytes = 128 + job.payload.length + job.queue.length * 3;
  for (const key in job.metadata) bytes += 8 + (key.length + job.metadata[key]!.length) * 3;
  return bytes;
}

function assignment(job: ClaimedJob, claimedAt: number): JobAssignment {
  return {
    jobId: job.id,
    queue: job.queue,
    attempt: job.attempt,
    payload: job.payload,
    metadata: job.metadata,
    priority: job.priority,
    deadline: job.timeoutSeconds === null ? undefined : new Date(claimedAt + job.timeoutSeconds * 1000),
    createdAt: job.createdAt,
    retryCount: job.retryCount,
    maxRetries: job.maxRetries,
  };
}
