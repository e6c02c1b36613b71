import { JOB_STATUSES, type JobStatus, type TransitionReason } from "../lifecycle/index.js";

/** A job as storage returns it; the transport edge turns it into the proto Job. */
export interface JobRecord {
  readonly id: string;
  readonly queue: string;
  readonly status: JobStatus;
  readonly statusReason: TransitionReason;
  readonly priority: number;
  /** Null when the read asked for the basic view. */
  readonly payload: Buffer | null;
  readonly metadata: Record<string, string>;
  readonly idempotencyKey: string | null;
  readonly attempt: number;
  readonly retryCount: number;
  readonly maxRetries: number | null;
  readonly timeoutSeconds: number | null;
  readonly result: Buffer | null;
  readonly errorMessage: string | null;
  readonly workerId: string | null;
  readonly leaseExpiresAt: Date | null;
  readonly createdAt: Date;
  readonly notBefore: Date | null;
  readonly assignedAt: Date | null;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  readonly updatedAt: Date;
}

/** Each JobRecord field and the `jobs` column it is read from: the one place the two are paired. */
const JOB_FIELD_COLUMNS: readonly (readonly [keyof JobRecord, string])[] = [
  ["id", "id"],
  ["queue", "queue"],
  ["status", "status"],
  ["statusReason", "status_reason"],
  ["priority", "priority"],
  ["payload", "payload"],
  ["metadata", "metadata"],
  ["idempotencyKey", "idempotency_key"],
  ["attempt", "attempt"],
  ["retryCount", "retry_count"],
  ["maxRetries", "max_retries"],
  ["timeoutSeconds", "timeout_seconds"],
  ["result", "result"],
  ["errorMessage", "error_message"],
  ["workerId", "worker_id"],
  ["leaseExpiresAt", "lease_expires_at"],
  ["createdAt", "created_at"],
  ["notBefore", "not_before"],
  ["assignedAt", "assigned_at"],
  ["startedAt", "started_at"],
  ["completedAt", "completed_at"],
  ["updatedAt", "updated_at"],
];

/** Fields a listing does not read (large): the basic view selects NULL for them. */
const LARGE_FIELDS: ReadonlySet<keyof JobRecord> = new Set(["payload", "result"]);

/**
 * The select list of `fields` (default: all of JobRecord) from table alias `j`, each under its
 * JobRecord name. `basic` reads NULL for the large fields, so listings do not read payloads.
 */
export function jobColumnsOf(fields?: readonly (keyof JobRecord)[], basic = false): string {
  const wanted = fields === undefined ? undefined : new Set(fields);
  return JOB_FIELD_COLUMNS.filter(([field]) => wanted === undefined || wanted.has(field))
    .map(([field, column]) => `${basic && LARGE_FIELDS.has(field) ? "NULL::bytea" : `j.${column}`} AS "${field}"`)
    .join(", ");
}

export const JOB_COLUMNS_FULL = jobColumnsOf();

/** The JobRecord fields of a CTE that returned JOB_COLUMNS_*, without the columns a writer added. */
export const JOB_RECORD_FIELDS = JOB_FIELD_COLUMNS.map(([field]) => `"${field}"`).join(", ");
export const JOB_COLUMNS_BASIC = jobColumnsOf(undefined, true);

/** One row of `job_events`, as GetJobLogs, WatchJob and the outbox relay read it. */
export interface JobEventRecord {
  readonly id: string;
  readonly jobId: string;
  readonly queue: string;
  readonly eventType: string;
  readonly fromStatus: JobStatus | null;
  readonly toStatus: JobStatus;
  readonly reason: TransitionReason;
  readonly workerId: string | null;
  readonly attempt: number;
  readonly message: string | null;
  readonly createdAt: Date;
}

export const JOB_EVENT_COLUMNS = `e.id::text AS id, e.job_id AS "jobId", e.queue, e.event_type AS "eventType",
  e.from_status AS "fromStatus", e.to_status AS "toStatus", e.reason, e.worker_id AS "workerId", e.attempt,
  e.message, e.created_at AS "createdAt"`;

/** The relay's cursor in `relay_cursors` (the event log is the outbox: docs/write-path.md). */
export const RELAY_CURSOR = "kafka";

/**
 * True for a `job_event_rows` row of alias `r` whose events the relay has all sent: its last event
 * is at or behind the cursor. Retention, purges and queue deletion remove only such rows, so no
 * event is lost before Kafka has it.
 */
export function eventRowRelayed(r: string): string {
  return `EXISTS (SELECT 1 FROM relay_cursors rc WHERE rc.name = '${RELAY_CURSOR}'
    AND (${r}.xid, ${r}.id + CASE WHEN ${r}.third_event_type IS NOT NULL THEN 2 WHEN ${r}.next_event_type IS NOT NULL THEN 1 ELSE 0 END)
        <= (rc.xid, rc.event_id))`;
}

/**
 * SQL lists of the statuses a worker holds and of the others. jobs_queue_status_id_idx has only
 * the others (migration 0010): a query that reads jobs by queue and status says which of the two
 * it reads, so the planner can prove the index's predicate (or jobs_worker_held_idx's) from it.
 */
export const HELD_STATUSES: readonly JobStatus[] = ["ASSIGNED", "RUNNING"];
export const UNHELD_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter((s) => !HELD_STATUSES.includes(s));
/** SQL: `('A', 'B')`, for `status IN …`. */
export const statusesSql = (statuses: readonly JobStatus[]): string => `(${statuses.map((s) => `'${s}'`).join(", ")})`;
export const HELD_STATUSES_SQL = statusesSql(HELD_STATUSES);
export const UNHELD_STATUSES_SQL = statusesSql(UNHELD_STATUSES);

/**
 * SQL: when job `alias` became (or becomes) due: its not_before, or its creation for a job due at
 * once. The very expression `jobs_claim_idx` keys PENDING jobs by (migration 0015), so that a
 * range or an order on it is read from that index.
 */
export function dueAtSql(alias: string): string {
  return `greatest(${alias}.not_before, ${alias}.created_at)`;
}

/**
 * SQL: the lowest UUIDv7 of the millisecond of timestamptz expression `t`. Job ids are UUIDv7
 * made at submit, so `id < uuidV7Floor(t)` bounds an index scan to jobs created before `t`: the
 * sweeps use it to read only the old end of jobs_queue_status_id_idx.
 */
export function uuidV7Floor(t: string): string {
  return `(lpad(to_hex(floor(extract(epoch FROM ${t}) * 1000)::bigint), 12, '0') || '00000000000000000000')::uuid`;
}
