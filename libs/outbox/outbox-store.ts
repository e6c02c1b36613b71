import { JOB_EVENT_COLUMNS, RELAY_CURSOR, type JobEventRecord } from "../jobs/index.js";
import { EVENTS_PER_ROW } from "../jobs/transition-sql.js";
import type { Db } from "../postgres/db.js";

// The relay's statements on the event log (SPEC §6; docs/write-path.md). The event log is the
// outbox: `job_events` rows past the relay's cursor in `relay_cursors` are the events Kafka has not
// acknowledged yet. Only the scheduler leader reads and advances the cursor.

/** A place in the log's relay order: (xid, id), compared as a pair. */
export interface LogPosition {
  /** The event's xid (job_event_rows.xid), an xid8 as text. */
  readonly xid: string;
  /** The event's id (job_events.id), a bigint as text. */
  readonly id: string;
}

/** An event with its place in the relay order. */
export interface OutboxRow extends JobEventRecord {
  readonly position: LogPosition;
}

/** The lowest id of a row that may hold event `id` (a row's events have ids id, id + 1, …). */
const CURSOR_ROW = (id: string) => `${id} - ${EVENTS_PER_ROW - 1}`;

/**
 * $1 cursor xid, $2 cursor id, $3 limit. The next events after the cursor in (xid, id) order,
 * only from transactions below the horizon, pg_snapshot_xmin(pg_current_snapshot()): every
 * transaction with a lower xid has committed or aborted, so no event can still appear before what
 * this returns. An event's xid is never lower than its job's previous event's, so a job's events
 * come out in the order they were written. A transaction held open holds the relay back at its xid
 * (jq_outbox_oldest_age_seconds shows it), never past it.
 *
 * A row of the log may hold up to three events (ids n, n + 1 and n + 2: docs/write-path.md,
 * "Event rows"), and the cursor may be between them. The read bounds the rows by their (xid, id)
 * index through the view's `row_id`, starting at the first row that may hold the cursor's event
 * (`CURSOR_ROW`), and takes the rows in index order: the events of a row follow each other, so the
 * sort by event id stays within rows.
 */
const READ_EVENTS = `
  SELECT e.xid::text AS "positionXid", ${JOB_EVENT_COLUMNS}
  FROM job_events e
  WHERE (e.xid, e.row_id) >= ($1::xid8, ${CURSOR_ROW("$2::bigint")}) AND (e.xid, e.id) > ($1::xid8, $2::bigint)
    AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY e.xid, e.row_id, e.id
  LIMIT $3`;

export async function readEventsAfter(db: Db, cursor: LogPosition, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<JobEventRecord & { positionXid: string }>(READ_EVENTS, [cursor.xid, cursor.id, limit]);
  return rows.map(({ positionXid, ...event }) => ({ ...event, position: { xid: positionXid, id: event.id } }));
}

/** $1 cursor name. */
const READ_CURSOR = `SELECT xid::text AS xid, event_id::text AS id FROM relay_cursors WHERE name = $1`;

export async function readRelayCursor(db: Db): Promise<LogPosition> {
  const { rows } = await db.query<LogPosition>(READ_CURSOR, [RELAY_CURSOR]);
  return rows[0] ?? { xid: "0", id: "0" };
}

/**
 * $1 name, $2 xid, $3 id. Moves the cursor forward to what Kafka acknowledged; never backwards,
 * so a deposed leader finishing a late batch cannot make the next one skip events (it can only
 * make it send some twice, which at-least-once allows).
 */
const ADVANCE_CURSOR = `
  INSERT INTO relay_cursors AS c (name, xid, event_id) VALUES ($1, $2::xid8, $3::bigint)
  ON CONFLICT (name) DO UPDATE SET xid = excluded.xid, event_id = excluded.event_id, updated_at = now()
  WHERE (c.xid, c.event_id) < (excluded.xid, excluded.event_id)`;

export async function advanceRelayCursor(db: Db, to: LogPosition): Promise<void> {
  await db.query(ADVANCE_CURSOR, [RELAY_CURSOR, to.xid, to.id]);
}

/** What waits for Kafka: events past the cursor, and how old the oldest is. */
export interface OutboxLag {
  readonly rows: number;
  /** Milliseconds since the oldest waiting event was written; null when none waits. */
  readonly oldestAgeMs: number | null;
}

/**
 * $1 now, $2 cursor name. Counts the events past the cursor (an index range scan: small while
 * Kafka keeps up, as large as the backlog during an outage) and the age of the oldest.
 */
const MEASURE_OUTBOX_LAG = `
  SELECT count(*)::float8 AS rows,
         (extract(epoch FROM $1::timestamptz - min(e.created_at)) * 1000)::float8 AS "oldestAgeMs"
  FROM job_events e, relay_cursors c
  WHERE c.name = $2 AND (e.xid, e.row_id) >= (c.xid, ${CURSOR_ROW("c.event_id")}) AND (e.xid, e.id) > (c.xid, c.event_id)`;

export async function measureOutboxLag(db: Db, now: Date): Promise<OutboxLag> {
  const { rows } = await db.query<{ rows: number; oldestAgeMs: number | null }>(MEASURE_OUTBOX_LAG, [now, RELAY_CURSOR]);
  const row = rows[0]!;
  // The database's clock wrote created_at; a little skew must not make the age negative.
  return { rows: row.rows, oldestAgeMs: row.oldestAgeMs === null ? null : Math.max(0, Math.round(row.oldestAgeMs)) };
}
