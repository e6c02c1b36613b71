import type { JobEventRecord, JobRecord } from "../../../libs/jobs/index.js";
import { InvalidArgument } from "../../../libs/errors/index.js";
import { JOB_STATUSES, TRANSITION_REASONS, type JobStatus as DomainStatus, type TransitionReason as DomainReason } from "../../../libs/lifecycle/index.js";
import { jobEventTypeFromHeader, JobEventType, JobStatus, TransitionReason, type Job, type JobEvent } from "../../../libs/proto/index.js";
import { msToDuration } from "./durations.js";

/**
 * Domain records → proto messages, and proto enums → domain strings. The proto enums carry the
 * same labels as the domain (ts-proto's removeEnumPrefix), so the mapping is by name.
 */
export function statusToProto(s: DomainStatus): JobStatus {
  return JobStatus[s];
}

export function reasonToProto(r: DomainReason): TransitionReason {
  return TransitionReason[r] ?? TransitionReason.UNSPECIFIED;
}

/** A status from a request; unknown or UNSPECIFIED values are INVALID_ARGUMENT naming the field. */
export function statusFromProto(value: JobStatus, field: string): DomainStatus {
  const name = JobStatus[value];
  if (name === undefined || !(JOB_STATUSES as readonly string[]).includes(name)) {
    throw new InvalidArgument(field, `is not a job status (got ${value})`);
  }
  return name as DomainStatus;
}

export function reasonFromProto(value: TransitionReason, field: string): DomainReason {
  const name = TransitionReason[value];
  if (name === undefined || !(TRANSITION_REASONS as readonly string[]).includes(name)) {
    throw new InvalidArgument(field, `is not a transition reason (got ${value})`);
  }
  return name as DomainReason;
}

export function jobToProto(j: JobRecord): Job {
  return {
    id: j.id,
    queue: j.queue,
    status: statusToProto(j.status),
    statusReason: reasonToProto(j.statusReason),
    priority: j.priority,
    payload: j.payload ?? Buffer.alloc(0),
    metadata: j.metadata,
    idempotencyKey: j.idempotencyKey ?? "",
    attempt: j.attempt,
    retryCount: j.retryCount,
    maxRetries: j.maxRetries ?? undefined,
    timeout: j.timeoutSeconds === null ? undefined : msToDuration(j.timeoutSeconds * 1000),
    result: j.result ?? Buffer.alloc(0),
    errorMessage: j.errorMessage ?? "",
    workerId: j.workerId ?? "",
    leaseExpiresAt: j.leaseExpiresAt ?? undefined,
    createdAt: j.createdAt,
    notBefore: j.notBefore ?? undefined,
    assignedAt: j.assignedAt ?? undefined,
    startedAt: j.startedAt ?? undefined,
    completedAt: j.completedAt ?? undefined,
    updatedAt: j.updatedAt,
  };
}

export function eventToProto(e: JobEventRecord): JobEvent {
  return {
    eventId: e.id,
    jobId: e.jobId,
    queue: e.queue,
    type: jobEventTypeFromHeader(e.eventType) ?? JobEventType.UNSPECIFIED,
    fromStatus: e.fromStatus === null ? JobStatus.UNSPECIFIED : statusToProto(e.fromStatus),
    toStatus: statusToProto(e.toStatus),
    reason: reasonToProto(e.reason),
    attempt: e.attempt,
    workerId: e.workerId ?? "",
    message: e.message ?? "",
    occurredAt: e.createdAt,
  };
}
