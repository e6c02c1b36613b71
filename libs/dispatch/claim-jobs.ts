import type pg from "pg";
import { JOBS_AVAILABLE_CHANNEL } from "../notifications/channels.js";
import { appendEventChain, CLAIMED, deferredClaim, move, NEXT_EVENT_XID, setStatus } from "../jobs/transition-sql.js";
import { withTransaction, type Db } from "../postgres/db.js";
import { namedStatement, unnestParams } from "../postgres/named-statement.js";

/** A job claimed for a worker: what goes on its stream. */
export interface ClaimedJob {
  readonly id: string;
  readonly queue: string;
  readonly attempt: number;
  readonly payload: Buffer;
  readonly metadata: Record<string, string>;
  readonly priority: number;
  readonly createdAt: Date;
  readonly retryCount: number;
  readonly maxRetries: number;
  /** The execution timeout that applies (the job's own, else its queue's); null for none. */
  readonly timeoutSeconds: number | null;
}

export interface ClaimRequest {
  readonly workerId: string;
  readonly queues: readonly string[];
  readonly limit: number;
  /** How long an undelivered assignment stays ASSIGNED before the scheduler hands it back. */
  readonly leaseMs: number;
}

/**
 * Claims up to `limit` due PENDING jobs from the worker's queues for it (PENDING → ASSIGNED,
 * attempt + 1, lease set), by priority then age (the time each became due: its not_before, or its
 * creation for a job that was due at once), skipping rows other claimers hold (SKIP LOCKED),
 * paused queues, and queues at their `max_concurrency`. The claim writes no event: the job's
 * CLAIMED event is written by the statement that next moves it, before its own (deferredClaim).
 *
 * Queues without a concurrency limit are claimed in one statement. For limited queues the count
 * of held jobs must not be read from a snapshot older than the last competing claim, so they are
 * claimed in a transaction that first locks their queue rows (FOR NO KEY UPDATE, which does not
 * block submits' foreign-key checks) and then counts and claims in a new statement.
 */
export async function claimJobs(pool: pg.Pool, req: ClaimRequest, limitedQueues: ReadonlySet<string>): Promise<ClaimedJob[]> {
  if (req.limit <= 0 || req.queues.length === 0) return [];
  const limited = req.queues.filter((q) => limitedQueues.has(q));
  if (limited.length === 0) return (await pool.query<ClaimedJob>(CLAIM([req.queues, req.limit, req.workerId, req.leaseMs]))).rows;
  return withTransaction(pool, async (client) => {
    await client.query("SELECT 1 FROM queues WHERE name = ANY($1::text[]) AND max_concurrency IS NOT NULL ORDER BY name FOR NO KEY UPDATE", [limited]);
    return (await client.query<ClaimedJob>(CLAIM_LIMITED([req.queues, req.limit, req.workerId, req.leaseMs]))).rows;
  });
}

/**
 * $1 queues, $2 limit, $3 worker id, $4 lease ms. How many a limited queue may give is the
 * statement's one difference: a limited queue's count of held jobs is only right once its row is
 * locked, so the statement without that lock gives limited queues nothing. Two statements, not a
 * flag: with the count in it the statement's generic plan costs more than a custom one, and
 * Postgres would plan it on every call (docs/write-path.md, "Planning"). For the same reason the
 * queue list and the limit are read through `(SELECT $n)`: a custom plan would see the values and
 * estimate fewer rows than the generic one, which is the same plan. Each queue's candidates come
 * from `jq_claim_due` (migration 0015), walks of `jobs_claim_idx` in claim order, one priority at
 * a time, each ending at the limit or at the first job not yet due, whatever the statistics say:
 * inline, a plan cached while they showed few PENDING jobs read and sorted every PENDING job of
 * the queue on each claim (docs/write-path.md, "Plans that read a whole backlog to sort it"), and
 * a walk in (priority, id) order read every delayed job ahead of the first due one ("Jobs that
 * are not due yet"). The UPDATE finds the claimed rows by
 * `id = ANY(ARRAY(…))`, which it estimates as a few primary-key lookups, where a join to the
 * candidates became a sequential scan of `jobs` once its statistics showed a large backlog
 * (docs/write-path.md, "Plans made on a large backlog").
 */
const claimStatement = (limitedCap: string) =>
  namedStatement(`
  WITH caps AS (
    SELECT q.name, q.max_retries, q.timeout_seconds,
           CASE WHEN q.max_concurrency IS NULL THEN $2::int ELSE ${limitedCap} END AS cap
    FROM queues q WHERE q.name = ANY((SELECT $1::text[])::text[]) AND NOT q.paused
  ), candidates AS (
    SELECT c.id, c.priority, c.due_at, caps.max_retries, caps.timeout_seconds
    FROM caps, LATERAL jq_claim_due(caps.name, least(caps.cap, $2::int)) c
    ORDER BY c.priority DESC, c.due_at, c.id
    LIMIT (SELECT $2::int)
  ), claimed AS (
    UPDATE jobs j SET ${setStatus(CLAIMED)}, attempt = j.attempt + 1, worker_id = $3::uuid,
           assigned_at = now(), started_at = NULL, not_before = NULL,
           lease_expires_at = now() + $4::int * interval '1 millisecond', updated_at = now()
    WHERE j.id = ANY(ARRAY(SELECT id FROM candidates))
    RETURNING j.id, j.queue, j.attempt, j.payload, j.metadata, j.priority, j.created_at, j.retry_count,
              j.max_retries, j.timeout_seconds
  )
  SELECT j.id, j.queue, j.attempt, j.payload, j.metadata, j.priority, j.created_at AS "createdAt",
         j.retry_count AS "retryCount", coalesce(j.max_retries, c.max_retries) AS "maxRetries",
         coalesce(j.timeout_seconds, c.timeout_seconds) AS "timeoutSeconds"
  FROM claimed j JOIN candidates c ON c.id = j.id ORDER BY c.priority DESC, c.due_at, c.id`);
const CLAIM = claimStatement("0");
const CLAIM_LIMITED = claimStatement(
  "greatest(q.max_concurrency - (SELECT count(*) FROM jobs h WHERE h.queue = q.name AND h.status IN ('ASSIGNED', 'RUNNING')), 0)::int",
);

/** A delivery: (job, attempt) as written to a worker's stream. */
export interface Delivery {
  readonly jobId: string;
  readonly attempt: number;
}

/** A delivery that was written to its worker's stream at `deliveredAt`. */
export interface DeliveryMark extends Delivery {
  readonly workerId: string;
  readonly deliveredAt: Date;
}

const DELIVERED = move("ASSIGNED", "RUNNING", "DELIVERED");

/**
 * $1 job ids, $2 attempts, $3 worker ids, $4 delivery times. Each job is found by its key, one
 * lookup per delivery (the LIMIT keeps the fences out of the lookup, so no partial index of held
 * jobs can serve it: docs/write-path.md, "Plans made on a small table"), and locked in id order.
 * The arrays are read through InitPlans (unnestParams) so that the generic plan is kept.
 */
const MARK_DELIVERED = namedStatement(
  `WITH d AS (SELECT * FROM ${unnestParams("uuid", "int", "uuid", "timestamptz")} AS d(id, attempt, worker_id, at) ORDER BY id),
   target AS (
     SELECT j.id, d.at, coalesce(j.timeout_seconds, q.timeout_seconds) AS timeout_seconds
     FROM d CROSS JOIN LATERAL (
       SELECT j.id, j.queue, j.status, j.attempt, j.worker_id, j.timeout_seconds FROM jobs j WHERE j.id = d.id LIMIT 1 FOR UPDATE
     ) j JOIN queues q ON q.name = j.queue
     WHERE j.status = 'ASSIGNED' AND j.attempt = d.attempt AND j.worker_id = d.worker_id
   ), changed AS (
     UPDATE jobs j SET ${setStatus(DELIVERED)}, started_at = t.at, updated_at = now(),
            event_xid = ${NEXT_EVENT_XID},
            lease_expires_at = CASE WHEN t.timeout_seconds IS NULL THEN NULL ELSE t.at + t.timeout_seconds * interval '1 second' END
     FROM target t WHERE j.id = t.id
     RETURNING j.id, j.queue, j.attempt, j.worker_id, j.assigned_at, j.event_xid, t.at
   ), events AS (
     ${appendEventChain("changed", [deferredClaim({ worker: "worker_id", at: "assigned_at" }), { move: DELIVERED, values: { worker: "worker_id", at: "at" } }])}
   )
   SELECT id FROM changed`,
);

/**
 * ASSIGNED → RUNNING for deliveries written to their workers' streams, in one statement, fenced
 * by attempt and worker, after the claim's deferred CLAIMED event. The DELIVERED event and
 * `started_at` carry the time of the write, and the
 * execution deadline (lease_expires_at while RUNNING) counts from it. Returns the ids marked; a
 * delivery missing from the result had already moved on (its result was recorded, or it was
 * cancelled), which is not an error.
 */
export async function markDelivered(db: Db, marks: readonly DeliveryMark[]): Promise<Set<string>> {
  if (marks.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    MARK_DELIVERED([marks.map((d) => d.jobId), marks.map((d) => d.attempt), marks.map((d) => d.workerId), marks.map((d) => d.deliveredAt)]),
  );
  return new Set(rows.map((r) => r.id));
}

export type HandBackReason = "DELIVERY_FAILED" | "WORKER_LOST" | "LEASE_EXPIRED";
const HAND_BACKS: Record<HandBackReason, ReturnType<typeof move>> = {
  DELIVERY_FAILED: move("ASSIGNED", "PENDING", "DELIVERY_FAILED"),
  WORKER_LOST: move("ASSIGNED", "PENDING", "WORKER_LOST"),
  LEASE_EXPIRED: move("ASSIGNED", "PENDING", "LEASE_EXPIRED"),
};

/**
 * ASSIGNED → PENDING for deliveries that could not be written (the stream broke) or whose worker
 * left before delivery. The attempt is "not consumed" in the sense that matters (SPEC §3): the
 * retry budget (retry_count) is untouched. The attempt number itself stays, so the next claim
 * gets a higher one: fencing tokens only ever grow, and a delivery that did reach the old worker
 * after all can never be confused with the new one. `message` is the event's: why, in words, for
 * GetJobLogs.
 */
export async function handBackUndelivered(db: Db, workerId: string, deliveries: readonly Delivery[], reason: HandBackReason, message: string): Promise<number> {
  if (deliveries.length === 0) return 0;
  const m = HAND_BACKS[reason];
  const { rows } = await db.query<{ n: number }>(
    `WITH d AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS d(id, attempt)),
     target AS (
       SELECT j.id, j.assigned_at FROM jobs j JOIN d ON d.id = j.id AND d.attempt = j.attempt
       WHERE j.status = 'ASSIGNED' AND j.worker_id = $3::uuid ORDER BY j.id FOR UPDATE OF j
     ), changed AS (
       UPDATE jobs j SET ${setStatus(m)}, worker_id = NULL,
              lease_expires_at = NULL, assigned_at = NULL, updated_at = now(), event_xid = ${NEXT_EVENT_XID}
       FROM target t WHERE j.id = t.id
       RETURNING j.id, j.queue, j.attempt, j.event_xid, t.assigned_at
     ), events AS (
       ${appendEventChain("changed", [deferredClaim({ worker: "$3::uuid", at: "assigned_at" }), { move: m, values: { worker: "$3::uuid", message: "$4::text" } }])}
     ), notified AS (
       SELECT pg_notify('${JOBS_AVAILABLE_CHANNEL}', queue) FROM (SELECT DISTINCT queue FROM changed) q
     )
     SELECT count(*)::int AS n FROM changed, LATERAL (SELECT count(*) FROM notified) x`,
    [deliveries.map((d) => d.jobId), deliveries.map((d) => d.attempt), workerId, message],
  );
  return rows[0]?.n ?? 0;
}
