import {
  eventTypeOf,
  requireTransition,
  sourcesOf,
  type JobEventType,
  type JobStatus,
  type TransitionReason,
} from "../lifecycle/index.js";

/**
 * The one home of job state changes (SPEC §2, §3): every statement that changes a job's status
 * writes its event rows through this module, and this module writes only moves that are rows of
 * the lifecycle table (libs/lifecycle/transitions.ts). A `Move` can only be made by `move()` or
 * `moveFromEverySource()`, which check the table; `EventRows` checks each row it is given. A
 * unit test (transition-sql.test.ts) fails when any other file writes `job_events` or sets a
 * job's status.
 *
 * The event log is also the outbox (docs/write-path.md): each row carries the xid that orders it
 * for the relay, `greatest(job's previous event xid, this transaction's xid)`, kept on the job row
 * as `event_xid` so a job's events never go backwards.
 */

/** One (to, reason) with the source states it may leave from; every combination is in the table. */
export interface Move {
  readonly from: readonly (JobStatus | null)[];
  readonly to: JobStatus;
  readonly reason: TransitionReason;
  readonly eventType: JobEventType;
}

/** The move from `from` (one state, several, or null for a new job); throws InvalidTransition. */
export function move(from: JobStatus | null | readonly JobStatus[], to: JobStatus, reason: TransitionReason): Move {
  const sources = Array.isArray(from) ? (from as readonly JobStatus[]) : [from as JobStatus | null];
  for (const s of sources) requireTransition(s, to, reason);
  return Object.freeze({ from: Object.freeze([...sources]), to, reason, eventType: eventTypeOf(to, reason) });
}

/** The move to `to` for `reason` from every state the table allows. */
export function moveFromEverySource(to: JobStatus, reason: TransitionReason): Move {
  return move(sourcesOf(to, reason), to, reason);
}

/** The state a move puts a row in, as SQL values of its `status` and `status_reason`. */
export function statusValues(m: Move): { readonly status: string; readonly reason: string } {
  return { status: `${literal(m.to)}::job_status`, reason: literal(m.reason) };
}

/** The assignments that put a job row in the move's state, for its UPDATE's SET list. */
export function setStatus(m: Move): string {
  const { status, reason } = statusValues(m);
  return `status = ${status}, status_reason = ${reason}`;
}

/** The value a changed job row's `event_xid` takes (table alias `j`). */
export const NEXT_EVENT_XID = "greatest(j.event_xid, pg_current_xact_id())";
/** The same for a new job row. */
export const FIRST_EVENT_XID = "pg_current_xact_id()";

const EVENT_COLUMNS = "job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message, created_at, xid";

/** SQL expressions for the columns of an event that the move does not fix. */
export interface EventValues {
  /** Worker id (uuid); default NULL. */
  readonly worker?: string;
  /** Message (text); default NULL. */
  readonly message?: string;
  /** When it happened (timestamptz); default now(). */
  readonly at?: string;
  /** The source state, needed when the move has several; default the move's only source. */
  readonly from?: string;
  /** The ordering xid; default the source row's `event_xid`. */
  readonly xid?: string;
  /** The attempt (int); default the source row's `attempt`. */
  readonly attempt?: string;
}

/**
 * `INSERT INTO job_event_rows … SELECT … FROM source ORDER BY id` for one fixed move. `source` is a
 * CTE whose rows have `id`, `queue`, `attempt` and `event_xid` (the job row after the change),
 * plus whatever `values` refer to.
 */
export function appendEvents(m: Move, source: string, values: EventValues = {}): string {
  return `INSERT INTO job_event_rows (${EVENT_COLUMNS})
    SELECT id, queue, ${Object.values(eventValues(m, values)).join(", ")}
    FROM ${source} ORDER BY id`;
}

/** The SQL of each column of a move's event after `job_id, queue` (EVENT_COLUMNS' order), defaults filled in. */
function eventValues(m: Move, values: EventValues) {
  return {
    event_type: literal(m.eventType),
    from_status: values.from ?? sourceLiteral(m),
    to_status: `${literal(m.to)}::job_status`,
    reason: literal(m.reason),
    worker_id: values.worker ?? "NULL::uuid",
    attempt: values.attempt ?? "attempt",
    message: values.message ?? "NULL::text",
    created_at: values.at ?? "now()",
    xid: values.xid ?? "event_xid",
  };
}

/** The columns of a pair's second event, each the `next_` twin of an event column. */
const NEXT_FIELDS = ["event_type", "to_status", "reason", "worker_id", "attempt", "message", "created_at"] as const;
const NEXT_COLUMNS = NEXT_FIELDS.map((f) => `next_${f}`).join(", ");

/** One move of an event pair: the rows of the source it applies to (SQL condition; default all). */
export interface PairPart {
  readonly move: Move;
  readonly when?: string;
  readonly values?: EventValues;
}

/**
 * One insert for two moves of the same job rows in one statement (SUBMITTED then CLAIMED,
 * DELIVERED then SUCCEEDED), one event row per job (docs/write-path.md, "Event pairs"). `source`
 * is a CTE as for `appendEvents`. A job both moves apply to gets one row holding both events, the
 * second in the row's `next_` columns with the id after the first's; a job one move applies to
 * gets a row with that event alone. The second move must leave the state the first enters: a
 * row's second event has the first one's to_status as its source, and the row's xid.
 */
export function appendEventPair(source: string, first: PairPart, second: PairPart): string {
  if (!second.move.from.includes(first.move.to)) {
    throw new Error(`event pair ${first.move.reason} then ${second.move.reason}: the second move cannot leave ${first.move.to}`);
  }
  const [a, b] = [first.when ?? "true", second.when ?? "true"];
  const [x, y] = [eventValues(first.move, first.values ?? {}), eventValues(second.move, second.values ?? {})];
  const own = (Object.keys(x) as (keyof typeof x)[]).map((c) => (x[c] === y[c] ? x[c] : `CASE WHEN ${a} THEN ${x[c]} ELSE ${y[c]} END`));
  const next = NEXT_FIELDS.map((c) => `CASE WHEN ${a} AND ${b} THEN ${y[c]} END`);
  return `INSERT INTO job_event_rows (${EVENT_COLUMNS}, ${NEXT_COLUMNS})
    SELECT id, queue, ${[...own, ...next].join(", ")}
    FROM ${source} WHERE (${a}) OR (${b})
    ORDER BY id`;
}

function sourceLiteral(m: Move): string {
  if (m.from.length !== 1) throw new Error(`move to ${m.to} (${m.reason}) has ${m.from.length} sources: name the source column`);
  const only = m.from[0]!;
  return only === null ? "NULL::job_status" : `${literal(only)}::job_status`;
}

/** Constants of the lifecycle table only (upper-case names and dotted event types). */
function literal(value: string): string {
  if (!/^[A-Za-z_.]+$/.test(value)) throw new Error(`not a lifecycle constant: ${value}`);
  return `'${value}'`;
}

/**
 * Event rows that differ per job (recording results: DELIVERED, SUCCEEDED, FAILED, then PENDING
 * or DEAD_LETTERED), as column arrays for one multi-row insert. `add` refuses a row that is not in
 * the table. An event added right after one of the same job that it continues (its source is the
 * state that one entered) shares that one's row as the pair's second event (docs/write-path.md,
 * "Event pairs").
 */
export class EventRows {
  private readonly jobId: string[] = [];
  private readonly queue: string[] = [];
  private readonly type: string[] = [];
  private readonly from: (JobStatus | null)[] = [];
  private readonly to: JobStatus[] = [];
  private readonly reason: string[] = [];
  private readonly worker: (string | null)[] = [];
  private readonly attempt: number[] = [];
  private readonly message: (string | null)[] = [];
  private readonly at: (Date | null)[] = [];
  private readonly nextType: (string | null)[] = [];
  private readonly nextTo: (JobStatus | null)[] = [];
  private readonly nextReason: (string | null)[] = [];
  private readonly nextWorker: (string | null)[] = [];
  private readonly nextAttempt: (number | null)[] = [];
  private readonly nextMessage: (string | null)[] = [];
  private readonly nextAt: (Date | null)[] = [];
  private events = 0;

  /** Events added. */
  get size(): number {
    return this.events;
  }

  add(e: {
    jobId: string;
    queue: string;
    from: JobStatus | null;
    to: JobStatus;
    reason: TransitionReason;
    workerId: string | null;
    attempt: number;
    message: string | null;
    /** When it happened; null: the transaction's now(). */
    at?: Date | null;
  }): void {
    const rule = requireTransition(e.from, e.to, e.reason);
    this.events++;
    const last = this.jobId.length - 1;
    if (last >= 0 && this.jobId[last] === e.jobId && this.nextType[last] === null && this.to[last] === e.from) {
      this.nextType[last] = rule.eventType;
      this.nextTo[last] = e.to;
      this.nextReason[last] = e.reason;
      this.nextWorker[last] = e.workerId;
      this.nextAttempt[last] = e.attempt;
      this.nextMessage[last] = e.message;
      this.nextAt[last] = e.at ?? null;
      return;
    }
    this.jobId.push(e.jobId);
    this.queue.push(e.queue);
    this.type.push(rule.eventType);
    this.from.push(e.from);
    this.to.push(e.to);
    this.reason.push(e.reason);
    this.worker.push(e.workerId);
    this.attempt.push(e.attempt);
    this.message.push(e.message);
    this.at.push(e.at ?? null);
    this.nextType.push(null);
    this.nextTo.push(null);
    this.nextReason.push(null);
    this.nextWorker.push(null);
    this.nextAttempt.push(null);
    this.nextMessage.push(null);
    this.nextAt.push(null);
  }

  /** The arrays, one element per row, to be passed as parameters $first … $first+16 of `insertSql`. */
  params(): unknown[] {
    return [
      this.jobId, this.queue, this.type, this.from, this.to, this.reason, this.worker, this.attempt, this.message, this.at,
      this.nextType, this.nextTo, this.nextReason, this.nextWorker, this.nextAttempt, this.nextMessage, this.nextAt,
    ];
  }

  /**
   * The insert, in the order rows were added. `xids` is a CTE with (id, event_xid) of the changed
   * job rows: each event takes its job's new event_xid.
   */
  static insertSql(first: number, xids: string): string {
    const p = (n: number) => `$${first + n}`;
    return `INSERT INTO job_event_rows (${EVENT_COLUMNS}, ${NEXT_COLUMNS})
      SELECT e.job_id, e.queue, e.event_type, e.from_status, e.to_status, e.reason, e.worker_id, e.attempt, e.message,
             coalesce(e.at, now()), x.event_xid, e.next_event_type, e.next_to_status, e.next_reason, e.next_worker_id, e.next_attempt,
             e.next_message, CASE WHEN e.next_event_type IS NOT NULL THEN coalesce(e.next_at, now()) END
      FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::job_status[], ${p(4)}::job_status[], ${p(5)}::text[],
                  ${p(6)}::uuid[], ${p(7)}::int[], ${p(8)}::text[], ${p(9)}::timestamptz[], ${p(10)}::text[], ${p(11)}::job_status[],
                  ${p(12)}::text[], ${p(13)}::uuid[], ${p(14)}::int[], ${p(15)}::text[], ${p(16)}::timestamptz[])
        WITH ORDINALITY AS e(job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message, at,
                             next_event_type, next_to_status, next_reason, next_worker_id, next_attempt, next_message, next_at, ord)
      JOIN ${xids} x ON x.id = e.job_id
      ORDER BY e.ord`;
  }
}
