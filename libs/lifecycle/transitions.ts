import { FailedPrecondition } from "../errors/index.js";
import type { JobStatus } from "./job-status.js";

/**
 * The job state machine of SPEC §3 as data. Every state change in the system names one of these
 * rows (from, to, reason); storage writes it as a conditional update plus a `job_events` row and an
 * outbox row, so the table below is also the complete list of events a consumer can see.
 */
export const TRANSITION_REASONS = [
  "SUBMITTED",
  "CLAIMED",
  "DELIVERED",
  "DELIVERY_FAILED",
  "LEASE_EXPIRED",
  "SUCCEEDED",
  "FAILED",
  "TIMEOUT",
  "WORKER_LOST",
  "RETRY_SCHEDULED",
  "RETRIES_EXHAUSTED",
  "NOT_RETRYABLE",
  "CANCELLED",
  "EXPIRED",
  "RETRIED_MANUALLY",
] as const;
export type TransitionReason = (typeof TRANSITION_REASONS)[number];

/** Kafka `type` header values (SPEC §6), plus `job.requeued` for a hand-back that consumes no attempt. */
export type JobEventType =
  | "job.submitted"
  | "job.assigned"
  | "job.started"
  | "job.requeued"
  | "job.succeeded"
  | "job.failed"
  | "job.retry_scheduled"
  | "job.dead_lettered"
  | "job.cancelled"
  | "job.expired";

export interface TransitionRule {
  readonly from: JobStatus | null;
  readonly to: JobStatus;
  readonly reason: TransitionReason;
  readonly eventType: JobEventType;
  /** Why the row exists, in the words of SPEC §3. */
  readonly when: string;
}

const rule = (
  from: JobStatus | null,
  to: JobStatus,
  reason: TransitionReason,
  eventType: JobEventType,
  when: string,
): TransitionRule => ({ from, to, reason, eventType, when });

export const TRANSITIONS: readonly TransitionRule[] = [
  rule(null, "PENDING", "SUBMITTED", "job.submitted", "SubmitJob"),
  rule("PENDING", "ASSIGNED", "CLAIMED", "job.assigned", "claimed for a worker with a free slot"),
  rule("ASSIGNED", "RUNNING", "DELIVERED", "job.started", "assignment written to the worker's stream"),
  rule("ASSIGNED", "PENDING", "DELIVERY_FAILED", "job.requeued", "stream broke before delivery"),
  rule("ASSIGNED", "PENDING", "LEASE_EXPIRED", "job.requeued", "assignment lease passed undelivered"),
  rule("ASSIGNED", "PENDING", "WORKER_LOST", "job.requeued", "worker lost before delivery"),
  rule("RUNNING", "DONE", "SUCCEEDED", "job.succeeded", "ReportResult success"),
  rule("RUNNING", "FAILED", "FAILED", "job.failed", "ReportResult failure"),
  rule("RUNNING", "FAILED", "TIMEOUT", "job.failed", "execution timeout"),
  rule("RUNNING", "FAILED", "WORKER_LOST", "job.failed", "worker lost while running"),
  rule("FAILED", "PENDING", "RETRY_SCHEDULED", "job.retry_scheduled", "retries left, backoff applied"),
  rule("FAILED", "DEAD_LETTERED", "RETRIES_EXHAUSTED", "job.dead_lettered", "retries exhausted"),
  rule("FAILED", "DEAD_LETTERED", "NOT_RETRYABLE", "job.dead_lettered", "worker said not retryable"),
  rule("PENDING", "DEAD_LETTERED", "CANCELLED", "job.cancelled", "CancelJob"),
  rule("ASSIGNED", "DEAD_LETTERED", "CANCELLED", "job.cancelled", "CancelJob"),
  rule("RUNNING", "DEAD_LETTERED", "CANCELLED", "job.cancelled", "CancelJob of a running job"),
  rule("PENDING", "DEAD_LETTERED", "EXPIRED", "job.expired", "queue TTL passed while PENDING"),
  rule("FAILED", "PENDING", "RETRIED_MANUALLY", "job.retry_scheduled", "RetryJob"),
  rule("DEAD_LETTERED", "PENDING", "RETRIED_MANUALLY", "job.retry_scheduled", "RetryJob"),
];

const byKey = new Map(TRANSITIONS.map((r) => [key(r.from, r.to, r.reason), r]));

function key(from: JobStatus | null, to: JobStatus, reason: TransitionReason): string {
  return `${from ?? "-"}>${to}:${reason}`;
}

/** The rule for (from, to, reason), or undefined when the state machine forbids it. */
export function findTransition(
  from: JobStatus | null,
  to: JobStatus,
  reason: TransitionReason,
): TransitionRule | undefined {
  return byKey.get(key(from, to, reason));
}

export class InvalidTransition extends FailedPrecondition {
  constructor(
    readonly from: JobStatus | null,
    readonly to: JobStatus,
    readonly reason: TransitionReason,
  ) {
    super(`job cannot move from ${from ?? "(new)"} to ${to} (${reason})`);
    this.name = "InvalidTransition";
  }
}

/** The rule for (from, to, reason); throws InvalidTransition when the state machine forbids it. */
export function requireTransition(
  from: JobStatus | null,
  to: JobStatus,
  reason: TransitionReason,
): TransitionRule {
  const found = findTransition(from, to, reason);
  if (!found) throw new InvalidTransition(from, to, reason);
  return found;
}

/** The states a job may be in for `reason` to move it to `to`; used to build conditional updates. */
export function sourcesOf(to: JobStatus, reason: TransitionReason): JobStatus[] {
  return TRANSITIONS.filter((r) => r.to === to && r.reason === reason && r.from !== null).map(
    (r) => r.from as JobStatus,
  );
}

/**
 * What happens to a FAILED job: back to PENDING while retries are left and the failure is
 * retryable, otherwise dead-lettered with the reason that says why.
 */
export function afterFailure(input: {
  retryCount: number;
  maxRetries: number;
  retryable: boolean;
}): { to: "PENDING"; reason: "RETRY_SCHEDULED" } | { to: "DEAD_LETTERED"; reason: "NOT_RETRYABLE" | "RETRIES_EXHAUSTED" } {
  if (!input.retryable) return { to: "DEAD_LETTERED", reason: "NOT_RETRYABLE" };
  if (input.retryCount >= input.maxRetries) return { to: "DEAD_LETTERED", reason: "RETRIES_EXHAUSTED" };
  return { to: "PENDING", reason: "RETRY_SCHEDULED" };
}

/**
 * The Kafka event type of every move to `to` for `reason`. The table is built so this never
 * depends on the source state, which lets one statement move jobs from several states at once.
 */
export function eventTypeOf(to: JobStatus, reason: TransitionReason): JobEventType {
  const types = new Set(TRANSITIONS.filter((r) => r.to === to && r.reason === reason).map((r) => r.eventType));
  const [only] = types;
  if (types.size !== 1 || only === undefined) throw new InvalidTransition(null, to, reason);
  return only;
}
