import type { ClusterNodeRecord, NodeRole as DomainRole } from "../presence/index.js";
import type { JobEventRecord, JobRecord } from "../jobs/index.js";
import type { JobStatus as DomainStatus, TransitionReason as DomainReason } from "../lifecycle/index.js";
import {
  jobEventTypeFromHeader,
  JobEventType,
  JobStatus,
  NodeRole,
  TransitionReason,
  WorkerStatus,
  type ClusterNode,
  type Duration,
  type Job,
  type JobEvent,
  type Queue,
  type Schedule,
  type Worker,
} from "../proto/index.js";
import type { QueueRecord, QueueStats } from "../queues/index.js";
import { nextCronRun } from "../schedules/cron.js";
import type { ScheduleRecord } from "../schedules/schedule-store.js";
import type { WorkerRecord } from "../workers/index.js";

/**
 * Domain → wire: the one place domain records become proto messages, for apps/api's replies, the
 * outbox relay's Kafka records (eventToProto: a consumer of Kafka and of WatchJob sees the same
 * message) and jqctl's requests. The proto enums carry the same labels as the domain (ts-proto's
 * removeEnumPrefix), so enums map by name. The other direction, with validation, is from-wire.ts.
 */

export function msToDuration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

const secondsToDuration = (s: number | null): Duration | undefined => (s === null ? undefined : msToDuration(s * 1000));

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
    timeout: secondsToDuration(j.timeoutSeconds),
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

export function queueToProto(q: QueueRecord, stats?: QueueStats): Queue {
  return {
    name: q.name,
    paused: q.paused,
    settings: {
      maxRetries: q.maxRetries,
      ttl: secondsToDuration(q.ttlSeconds),
      backoffBase: msToDuration(q.backoffBaseMs),
      backoffMax: msToDuration(q.backoffMaxMs),
      timeout: secondsToDuration(q.timeoutSeconds),
      maxConcurrency: q.maxConcurrency ?? undefined,
      retention: msToDuration(q.retentionSeconds * 1000),
    },
    stats: stats && {
      depth: {
        pending: String(stats.depth.PENDING),
        assigned: String(stats.depth.ASSIGNED),
        running: String(stats.depth.RUNNING),
        done: String(stats.depth.DONE),
        failed: String(stats.depth.FAILED),
        deadLettered: String(stats.depth.DEAD_LETTERED),
      },
      oldestPendingAge: stats.oldestPendingAgeMs === null ? undefined : msToDuration(stats.oldestPendingAgeMs),
      scheduled: String(stats.scheduled),
    },
    createdAt: q.createdAt,
    updatedAt: q.updatedAt,
  };
}

export function scheduleToProto(s: ScheduleRecord): Schedule {
  return {
    name: s.name,
    queue: s.queue,
    cron: s.cron,
    timeZone: s.timeZone,
    enabled: s.enabled,
    payload: s.payload,
    priority: s.priority,
    metadata: s.metadata,
    maxRetries: s.maxRetries ?? undefined,
    timeout: secondsToDuration(s.timeoutSeconds),
    createdAt: s.createdAt,
    nextRunAt: s.enabled ? nextCronRun(s.cron, s.timeZone) : undefined,
  };
}

export function workerToProto(w: WorkerRecord): Worker {
  return {
    id: w.workerId,
    hostname: w.hostname,
    status: WorkerStatus[w.status],
    queues: w.queues,
    concurrency: w.concurrency,
    labels: w.labels,
    sdkVersion: w.sdkVersion,
    nodeId: w.nodeId ?? "",
    activeJobs: w.activeJobs,
    registeredAt: w.registeredAt,
    lastHeartbeatAt: w.lastHeartbeat,
  };
}

const ROLES: Readonly<Record<DomainRole, NodeRole>> = { api: NodeRole.API, scheduler: NodeRole.SCHEDULER, health: NodeRole.HEALTH };

export function clusterNodeToProto(n: ClusterNodeRecord): ClusterNode {
  return {
    nodeId: n.nodeId,
    role: ROLES[n.role],
    version: n.version,
    hostname: n.hostname,
    leader: n.leader,
    alive: n.alive,
    startedAt: n.startedAt,
    lastSeenAt: n.lastSeenAt,
  };
}
