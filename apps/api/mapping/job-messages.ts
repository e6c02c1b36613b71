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

/**
 * The domain label of an enum value from a request: the proto enum's name for it, which must be
 * one of `allowed`. Unknown numbers and UNSPECIFIED are INVALID_ARGUMENT naming the field.
 */
export function labelFromProto<L extends string>(
  protoEnum: Record<number, string>,
  allowed: readonly L[],
  value: number,
  field: string,
  what: string,
): L {
  const name = protoEnum[value];
  if (name === undefined || !(allowed as readonly string[]).includes(name)) throw new InvalidArgument(field, `is not a ${what} (got ${value})`);
  return name as L;
}

export function statusFromProto(value: JobStatus, field: string): DomainStatus {
  return labelFromProto(JobStatus, JOB_STATUSES, value, field, "job status");
}

export function reasonFromProto(value: TransitionReason, field: string): DomainReason {
  return labelFromProto(TransitionReason, TRANSITION_REASONS, value, field, "transition reason");
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
