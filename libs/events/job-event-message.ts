import type { JobEventRecord } from "../jobs/index.js";
import type { JobStatus as DomainStatus, TransitionReason as DomainReason } from "../lifecycle/index.js";
import { jobEventTypeFromHeader, JobEventType, JobStatus, TransitionReason, type JobEvent } from "../proto/index.js";

/**
 * Domain → proto for job events, shared by the gRPC edge (GetJobLogs, WatchJob) and the outbox
 * relay (Kafka), so a consumer of either sees the same message. The proto enums carry the same
 * labels as the domain (ts-proto's removeEnumPrefix), so the mapping is by name.
 */
export function statusToProto(s: DomainStatus): JobStatus {
  return JobStatus[s];
}

export function reasonToProto(r: DomainReason): TransitionReason {
  return TransitionReason[r] ?? TransitionReason.UNSPECIFIED;
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
