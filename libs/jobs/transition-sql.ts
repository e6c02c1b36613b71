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

/** The columns of a row's second and third events, each the `next_` or `third_` twin of an event column, with its SQL type. */
const FOLLOWING_FIELDS = [
  ["event_type", "text"],
  ["to_status", "job_status"],
  ["reason", "text"],
  ["worker_id", "uuid"],
  ["attempt", "int"],
  ["message", "text"],
  ["created_at", "timestamptz"],
] as const;
/** The column prefixes of a row's second and third events. */
const FOLLOWING_SLOTS = ["next", "third"] as const;
const FOLLOWING_COLUMNS = FOLLOWING_SLOTS.flatMap((slot) => FOLLOWING_FIELDS.map(([f]) => `${slot}_${f}`)).join(", ");
/** How many events one row of the log holds (migration 0013). */
export const EVENTS_PER_ROW = 1 + FOLLOWING_SLOTS.length;

/** One move of an event chain: written for the rows of the source where `when` holds (default all). */
export interface ChainPart {
  readonly move: Move;
  readonly when?: string;
  readonly values?: EventValues;
}

/**
 * One insert for up to three moves of the same job rows in one statement (CLAIMED, DELIVERED,
 * SUCCEEDED), one event row per job (docs/write-path.md, "Event rows"): the first event in the
 * row's own columns, the others in its `next_` and `third_` columns with the ids after it. Each
 * move must leave the state the one before enters: a following event's source is the previous
 * one's to_status, and all share the row's xid. Leading parts may be conditional on one shared
 * `when` (a job still ASSIGNED writes its CLAIMED and DELIVERED before its SUCCEEDED); the rest,
 * and at least the last, apply to every row, so each row of `source` gets one event row.
 */
export function appendEventChain(source: string, parts: readonly ChainPart[]): string {
  if (parts.length === 0 || parts.length > EVENTS_PER_ROW) throw new Error(`an event row holds 1 to ${EVENTS_PER_ROW} events, not ${parts.length}`);
  parts.slice(1).forEach((p, i) => {
    const before = parts[i]!.move;
    if (!p.move.from.includes(before.to)) throw new Error(`event chain ${before.reason} then ${p.move.reason}: the second move cannot leave ${before.to}`);
  });
  const optional = parts.findIndex((p) => p.when === undefined);
  const when = parts[0]!.when;
  if (optional === -1 || parts.slice(optional).some((p) => p.when !== undefined) || parts.slice(0, optional).some((p) => p.when !== when)) {
    throw new Error("event chain: only leading parts may be conditional, all on the same condition");
  }
  const values = parts.map((p) => eventValues(p.move, p.values ?? {}));
  // The event in slot `i`: part i where the optional parts apply, else part i + optional.
  const slot = (i: number, column: keyof (typeof values)[number]) => {
    const all = values[i]?.[column] ?? "NULL";
    const rest = values[i + optional]?.[column] ?? "NULL";
    return optional === 0 || all === rest ? all : `CASE WHEN ${when} THEN ${all} ELSE ${rest} END`;
  };
  const own = (Object.keys(values[0]!) as (keyof (typeof values)[number])[]).map((c) => slot(0, c));
  const following = FOLLOWING_SLOTS.flatMap((_, s) => FOLLOWING_FIELDS.map(([c]) => slot(s + 1, c)));
  return `INSERT INTO job_event_rows (${EVENT_COLUMNS}, ${FOLLOWING_COLUMNS})
    SELECT id, queue, ${[...own, ...following].join(", ")}
    FROM ${source} ORDER BY id`;
}

/** PENDING → ASSIGNED: the claim's event, which the claim itself does not write (`deferredClaim`). */
export const CLAIMED = move("PENDING", "ASSIGNED", "CLAIMED");

/**
 * The CLAIMED event a claim left to the job's next move (docs/write-path.md, "The deferred CLAIMED
 * event"): entering ASSIGNED writes no event, so every statement that moves a job out of ASSIGNED
 * writes it first, in the same event row, with the claim's own worker and time (`assigned_at`, read
 * before the move clears it) and the job's attempt. `when` says which rows were ASSIGNED, for a
 * statement that also moves jobs from other states.
 */
export function deferredClaim(values: { readonly worker: string; readonly at: string; readonly when?: string }): ChainPart {
  // A row made ASSIGNED without a claim's time (by hand, in SQL) still gets its event, at now().
  return { move: CLAIMED, when: values.when, values: { worker: values.worker, at: `coalesce(${values.at}, now())` } };
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

/** The events of one slot of a row (second or third), one element per row, null where the row has none. */
class FollowingSlot {
  readonly type: (string | null)[] = [];
  readonly to: (JobStatus | null)[] = [];
  readonly reason: (string | null)[] = [];
  readonly worker: (string | null)[] = [];
  readonly attempt: (number | null)[] = [];
  readonly message: (string | null)[] = [];
  readonly at: (Date | null)[] = [];

  push(): void {
    for (const column of this.columns()) column.push(null);
  }

  set(row: number, type: string, e: EventInput): void {
    this.type[row] = type;
    this.to[row] = e.to;
    this.reason[row] = e.reason;
    this.worker[row] = e.workerId;
    this.attempt[row] = e.attempt;
    this.message[row] = e.message;
    this.at[row] = e.at ?? null;
  }

  columns(): unknown[][] {
    return [this.type, this.to, this.reason, this.worker, this.attempt, this.message, this.at];
  }
}

interface EventInput {
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
}

/**
 * Event rows that differ per job (recording results: CLAIMED, DELIVERED, SUCCEEDED, FAILED, then
 * PENDING or DEAD_LETTERED), as column arrays for one multi-row insert. `add` refuses a row that is
 * not in the table. An event added right after one of the same job that it continues (its source
 * is the state that one entered) shares that one's row while the row has room for it
 * (docs/write-path.md, "Event rows").
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
  private readonly following = [new FollowingSlot(), new FollowingSlot()];
  /** Per row, the events in it and the state its last one entered. */
  private readonly filled: number[] = [];
  private readonly lastTo: JobStatus[] = [];
  private events = 0;

  /** Events added. */
  get size(): number {
    return this.events;
  }

  add(e: EventInput): void {
    const rule = requireTransition(e.from, e.to, e.reason);
    this.events++;
    const last = this.jobId.length - 1;
    if (last >= 0 && this.jobId[last] === e.jobId && this.filled[last]! < EVENTS_PER_ROW && this.lastTo[last] === e.from) {
      this.following[this.filled[last]! - 1]!.set(last, rule.eventType, e);
      this.filled[last]!++;
      this.lastTo[last] = e.to;
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
    for (const slot of this.following) slot.push();
    this.filled.push(1);
    this.lastTo.push(e.to);
  }

  /** The arrays, one element per row, to be passed as parameters $first … $first+23 of `insertSql`. */
  params(): unknown[] {
    return [
      this.jobId, this.queue, this.type, this.from, this.to, this.reason, this.worker, this.attempt, this.message, this.at,
      ...this.following.flatMap((slot) => slot.columns()),
    ];
  }

  /**
   * The insert, in the order rows were added. `xids` is a CTE with (id, event_xid) of the changed
   * job rows: each event takes its job's new event_xid.
   */
  static insertSql(first: number, xids: string): string {
    const p = (n: number) => `$${first + n}`;
    // The following slots' arrays come after the first event's ten, in FOLLOWING_COLUMNS' order;
    // a following event without its own time takes now().
    const following = FOLLOWING_SLOTS.flatMap((slot, s) =>
      FOLLOWING_FIELDS.map(([f, type], i) => ({
        array: `${p(10 + s * FOLLOWING_FIELDS.length + i)}::${type}[]`,
        name: `${slot}_${f}`,
        value: f === "created_at" ? `CASE WHEN e.${slot}_event_type IS NOT NULL THEN coalesce(e.${slot}_${f}, now()) END` : `e.${slot}_${f}`,
      })),
    );
    const list = (key: "array" | "name" | "value") => following.map((c) => c[key]).join(", ");
    return `INSERT INTO job_event_rows (${EVENT_COLUMNS}, ${FOLLOWING_COLUMNS})
      SELECT e.job_id, e.queue, e.event_type, e.from_status, e.to_status, e.reason, e.worker_id, e.attempt, e.message,
             coalesce(e.at, now()), x.event_xid, ${list("value")}
      FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::job_status[], ${p(4)}::job_status[], ${p(5)}::text[],
                  ${p(6)}::uuid[], ${p(7)}::int[], ${p(8)}::text[], ${p(9)}::timestamptz[], ${list("array")})
        WITH ORDINALITY AS e(job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt, message, at,
                             ${list("name")}, ord)
      JOIN ${xids} x ON x.id = e.job_id
      ORDER BY e.ord`;
  }
}
