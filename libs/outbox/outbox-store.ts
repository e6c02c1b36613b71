import { JOB_EVENT_COLUMNS, type JobEventRecord } from "../jobs/index.js";
import type { Db } from "../postgres/db.js";

// The relay's three statements on the outbox (SPEC §6). Only the scheduler leader runs them.

/** An outbox row with the job event it points at. */
export interface OutboxRow extends JobEventRecord {
  /** outbox.id, a bigint as text. */
  readonly outboxId: string;
}

/**
 * $1 limit. The committed outbox rows with the lowest ids, with their events, in id order. A row
 * whose transaction has not committed yet is invisible here even when its id is lower than the
 * rows returned; it is read by a later call (docs/outbox.md explains why that keeps per-job order).
 */
const READ_OUTBOX_BATCH = `
  SELECT o.id::text AS "outboxId", ${JOB_EVENT_COLUMNS}
  FROM outbox o JOIN job_events e ON e.id = o.event_id
  ORDER BY o.id
  LIMIT $1`;

export async function readOutboxBatch(db: Db, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(READ_OUTBOX_BATCH, [limit]);
  return rows;
}

/** $1 outbox ids that Kafka acknowledged. */
const DELETE_RELAYED_OUTBOX_ROWS = "DELETE FROM outbox WHERE id = ANY($1::bigint[])";

export async function deleteRelayedOutboxRows(db: Db, outboxIds: readonly string[]): Promise<number> {
  if (outboxIds.length === 0) return 0;
  const { rowCount } = await db.query(DELETE_RELAYED_OUTBOX_ROWS, [outboxIds]);
  return rowCount ?? 0;
}

/** What waits in the outbox: rows not yet acknowledged by Kafka, and how old the oldest is. */
export interface OutboxLag {
  readonly rows: number;
  /** Milliseconds since the oldest row was written (its transaction's start); null when empty. */
  readonly oldestAgeMs: number | null;
}

/**
 * $1 now. Counts every row (a scan of the outbox: small while Kafka keeps up, as large as the
 * backlog during an outage) and the age of the oldest by `created_at`.
 */
const MEASURE_OUTBOX_LAG = `
  SELECT count(*)::float8 AS rows,
         (extract(epoch FROM $1::timestamptz - min(created_at)) * 1000)::float8 AS "oldestAgeMs"
  FROM outbox`;

export async function measureOutboxLag(db: Db, now: Date): Promise<OutboxLag> {
  const { rows } = await db.query<{ rows: number; oldestAgeMs: number | null }>(MEASURE_OUTBOX_LAG, [now]);
  const row = rows[0]!;
  // The database's clock wrote created_at; a little skew must not make the age negative.
  return { rows: row.rows, oldestAgeMs: row.oldestAgeMs === null ? null : Math.max(0, Math.round(row.oldestAgeMs)) };
}
