import type { JobEventRecord, JobRecord } from "../jobs/index.js";
import type { QueueRecord } from "../queues/index.js";
import type { WorkerRecord } from "../workers/index.js";

/** The JSON shapes of the dashboard's job, event, queue and worker views (times as ISO strings). */

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export interface JobSummary {
  readonly id: string;
  readonly queue: string;
  readonly status: string;
  readonly statusReason: string;
  readonly priority: number;
  readonly attempt: number;
  readonly retryCount: number;
  readonly maxRetries: number | null;
  readonly errorMessage: string | null;
  readonly workerId: string | null;
  readonly createdAt: string;
  readonly notBefore: string | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly updatedAt: string;
}

export function jobSummary(j: JobRecord): JobSummary {
  return {
    id: j.id,
    queue: j.queue,
    status: j.status,
    statusReason: j.statusReason,
    priority: j.priority,
    attempt: j.attempt,
    retryCount: j.retryCount,
    maxRetries: j.maxRetries,
    errorMessage: j.errorMessage,
    workerId: j.workerId,
    createdAt: j.createdAt.toISOString(),
    notBefore: iso(j.notBefore),
    startedAt: iso(j.startedAt),
    completedAt: iso(j.completedAt),
    updatedAt: j.updatedAt.toISOString(),
  };
}

/** Everything the job page shows besides payload, result and events. */
export function jobDetail(j: JobRecord) {
  return {
    ...jobSummary(j),
    metadata: j.metadata,
    idempotencyKey: j.idempotencyKey,
    timeoutSeconds: j.timeoutSeconds,
    leaseExpiresAt: iso(j.leaseExpiresAt),
    assignedAt: iso(j.assignedAt),
  };
}

export function eventView(e: JobEventRecord) {
  return {
    id: e.id,
    type: e.eventType,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    reason: e.reason,
    workerId: e.workerId,
    attempt: e.attempt,
    message: e.message,
    at: e.createdAt.toISOString(),
  };
}

export interface AttemptView {
  readonly attempt: number;
  readonly workerId: string | null;
  readonly assignedAt: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** The reason of the event that ended the attempt (SUCCEEDED, FAILED, TIMEOUT, …); null while it runs. */
  readonly outcome: string | null;
  readonly message: string | null;
}

/**
 * One row per delivery, folded from the event log: each claim starts an attempt (its number is the
 * fencing token on every later event), and the event leaving ASSIGNED or RUNNING ends it.
 */
export function attemptsFromEvents(events: readonly JobEventRecord[]): AttemptView[] {
  const byAttempt = new Map<number, { -readonly [K in keyof AttemptView]: AttemptView[K] }>();
  for (const e of events) {
    if (e.attempt <= 0) continue;
    let a = byAttempt.get(e.attempt);
    if (!a) {
      a = { attempt: e.attempt, workerId: null, assignedAt: null, startedAt: null, endedAt: null, outcome: null, message: null };
      byAttempt.set(e.attempt, a);
    }
    a.workerId ??= e.workerId;
    if (e.toStatus === "ASSIGNED") a.assignedAt ??= e.createdAt.toISOString();
    else if (e.toStatus === "RUNNING") a.startedAt ??= e.createdAt.toISOString();
    else if ((e.fromStatus === "ASSIGNED" || e.fromStatus === "RUNNING") && a.outcome === null) {
      a.endedAt = e.createdAt.toISOString();
      a.outcome = e.reason;
      a.message = e.message;
    }
  }
  return [...byAttempt.values()].sort((x, y) => x.attempt - y.attempt);
}

export function queueView(q: QueueRecord) {
  return { name: q.name, paused: q.paused, updatedAt: q.updatedAt.toISOString() };
}

export function workerView(w: WorkerRecord) {
  return {
    workerId: w.workerId,
    hostname: w.hostname,
    queues: w.queues,
    concurrency: w.concurrency,
    status: w.status,
    activeJobs: w.activeJobs,
    sdkVersion: w.sdkVersion,
    registeredAt: w.registeredAt.toISOString(),
    lastHeartbeat: w.lastHeartbeat.toISOString(),
  };
}
