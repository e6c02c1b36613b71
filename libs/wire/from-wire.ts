import { InvalidArgument } from "../errors/index.js";
import { JOB_STATUSES, type JobStatus as DomainStatus } from "../lifecycle/job-status.js";
import { TRANSITION_REASONS, type TransitionReason as DomainReason } from "../lifecycle/transitions.js";
import { JobStatus, TransitionReason, WorkerStatus, type Duration } from "../proto/index.js";
import { WORKER_STATUSES, type WorkerStatus as DomainWorkerStatus } from "../workers/worker-status.js";

/**
 * Wire → domain: the one place proto field values become domain values, checked. apps/api's request
 * parsing builds on it (a bad value is INVALID_ARGUMENT naming the field); the worker SDK reads the
 * server's durations with it. Its imports are pure (no Postgres, no packages beyond the contract),
 * because the SDK package (packages/sdk-ts) compiles it too. The other direction is to-wire.ts.
 */

/** The milliseconds a proto Duration says, unchecked: NaN when `seconds` is not a number. */
export function durationMs(d: Duration): number {
  return Number(d.seconds) * 1000 + d.nanos / 1e6;
}

/**
 * A duration the server sent (heartbeat intervals): its milliseconds, or undefined when absent,
 * zero, negative or malformed, so the SDK falls back to its default rather than fail.
 */
export function positiveDurationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  const ms = durationMs(d);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** A proto Duration as milliseconds; refuses negative or non-finite values, naming the field. */
export function durationToMs(d: Duration, field: string): number {
  const seconds = Number(d.seconds);
  if (!Number.isFinite(seconds) || !Number.isInteger(d.nanos)) throw new InvalidArgument(field, "is not a valid duration");
  if (seconds < 0 || d.nanos < 0) throw new InvalidArgument(field, "must not be negative");
  const ms = durationMs(d);
  if (ms > 100 * 365 * 24 * 3600 * 1000) throw new InvalidArgument(field, "is longer than 100 years");
  return ms;
}

/** A proto Duration that must be a positive whole number of seconds (timeouts, TTLs, retention). */
export function durationToWholeSeconds(d: Duration, field: string, allowZero = false): number {
  const ms = durationToMs(d, field);
  if (d.nanos !== 0) throw new InvalidArgument(field, "must be a whole number of seconds");
  if (ms === 0 && !allowZero) throw new InvalidArgument(field, "must be positive");
  if (ms / 1000 > 2_147_483_647) throw new InvalidArgument(field, "is too long");
  return ms / 1000;
}

/** A positive whole number of milliseconds, as stored for backoff settings. */
export function durationToWholeMs(d: Duration, field: string): number {
  const ms = durationToMs(d, field);
  if (!Number.isInteger(ms)) throw new InvalidArgument(field, "must be a whole number of milliseconds");
  if (ms <= 0) throw new InvalidArgument(field, "must be positive");
  if (ms > 2_147_483_647) throw new InvalidArgument(field, "is too long");
  return ms;
}

/**
 * The domain label of an enum value from a request: the proto enum's name for it, which must be
 * one of `allowed`. The proto enums carry the same labels as the domain (ts-proto's
 * removeEnumPrefix), so the mapping is by name. Unknown numbers and UNSPECIFIED are
 * INVALID_ARGUMENT naming the field.
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

export function workerStatusFromProto(value: WorkerStatus, field: string): DomainWorkerStatus {
  return labelFromProto(WorkerStatus, WORKER_STATUSES, value, field, "worker status");
}
