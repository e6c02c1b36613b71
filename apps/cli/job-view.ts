import { FINAL_STATUSES as DOMAIN_FINAL_STATUSES } from "../../libs/lifecycle/index.js";
import { Job, JobEvent, JobEventType, JobStatus, TransitionReason } from "../../libs/proto/index.js";
import { statusToProto } from "../../libs/wire/to-wire.js";
import { enumLabel } from "./enums.js";
import { formatDuration } from "./durations.js";
import { formatTime, printFields, previewBytes } from "./output.js";

/** Statuses after which a job changes no more (a retry makes it PENDING again). */
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set([...DOMAIN_FINAL_STATUSES].map(statusToProto));

/** One job, field by field, for people. */
export function printJob(job: Job): void {
  printFields([
    ["id", job.id],
    ["queue", job.queue],
    ["status", `${enumLabel(JobStatus, job.status)} (${enumLabel(TransitionReason, job.statusReason)})`],
    ["priority", job.priority],
    ["attempt", `${job.attempt} (retries ${job.retryCount}/${job.maxRetries ?? "queue default"})`],
    ["timeout", formatDuration(job.timeout)],
    ["idempotency key", job.idempotencyKey],
    ["metadata", Object.entries(job.metadata).map(([k, v]) => `${k}=${v}`).join(", ")],
    ["payload", previewBytes(job.payload)],
    ["result", previewBytes(job.result)],
    ["error", job.errorMessage],
    ["worker", job.workerId],
    ["created", formatTime(job.createdAt)],
    ["not before", formatTime(job.notBefore)],
    ["started", formatTime(job.startedAt)],
    ["completed", formatTime(job.completedAt)],
  ]);
}

/** One event as a line: time, type, from → to, reason, attempt, message. */
export function eventLine(e: JobEvent): string {
  const move = `${enumLabel(JobStatus, e.fromStatus)} -> ${enumLabel(JobStatus, e.toStatus)}`;
  const parts = [formatTime(e.occurredAt), enumLabel(JobEventType, e.type).padEnd(16), move.padEnd(28), enumLabel(TransitionReason, e.reason)];
  if (e.attempt) parts.push(`attempt ${e.attempt}`);
  if (e.workerId) parts.push(`worker ${e.workerId}`);
  if (e.message) parts.push(JSON.stringify(e.message));
  return parts.join("  ");
}

export const jobJson = (job: Job): unknown => Job.toJSON(job);
export const eventJson = (event: JobEvent): unknown => JobEvent.toJSON(event);
