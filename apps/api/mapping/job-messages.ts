import type { JobRecord } from "../../../libs/jobs/index.js";
import { InvalidArgument } from "../../../libs/errors/index.js";
import { reasonToProto, statusToProto } from "../../../libs/events/index.js";
import { JOB_STATUSES, TRANSITION_REASONS, type JobStatus as DomainStatus, type TransitionReason as DomainReason } from "../../../libs/lifecycle/index.js";
import { JobStatus, TransitionReason, type Job } from "../../../libs/proto/index.js";
import { msToDuration } from "./durations.js";

// Job records → proto messages, and proto enums → domain strings. The proto enums carry the
// same labels as the domain (ts-proto's removeEnumPrefix), so the mapping is by name. Events (and
// the status and reason enums they share with jobs) map in libs/events, which the outbox relay
// uses too.

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
