import type pg from "pg";
import { JOBS_AVAILABLE_CHANNEL } from "../notifications/channels.js";
import { withTransaction, type Db } from "../postgres/db.js";

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
 * attempt + 1, lease set), by priority then age, skipping rows other claimers hold (SKIP LOCKED),
 * paused queues, and queues at their `max_concurrency`.
 *
 * Queues without a concurrency limit are claimed in one statement. For limited queues the count
 * of held jobs must not be read from a snapshot older than the last competing claim, so they are
 * claimed in a transaction that first locks their queue rows (FOR NO KEY UPDATE, which does not
 * block submits' foreign-key checks) and then counts and claims in a new statement.
 */
export async function claimJobs(pool: pg.Pool, req: ClaimRequest, limitedQueues: ReadonlySet<string>): Promise<ClaimedJob[]> {
  if (req.limit <= 0 || req.queues.length === 0) return [];
  const limited = req.queues.filter((q) => limitedQueues.has(q));
  if (limited.length === 0) return (await pool.query<ClaimedJob>(CLAIM, [req.queues, req.limit, req.workerId, req.leaseMs, false])).rows;
  return withTransaction(pool, async (client) => {
    await client.query("SELECT 1 FROM queues WHERE name = ANY($1::text[]) AND max_concurrency IS NOT NULL ORDER BY name FOR NO KEY UPDATE", [limited]);
    return (await client.query<ClaimedJob>(CLAIM, [req.queues, req.limit, req.workerId, req.leaseMs, true])).rows;
  });
}

/**
 * $1 queues, $2 limit, $3 worker id, $4 lease ms, $5 whether limited queues' rows are locked
 * (when not, limited queues get no jobs: their count could be stale).
 */
const CLAIM = `
  WITH caps AS (
    SELECT q.name, q.max_retries, q.timeout_seconds,
           CASE WHEN q.max_concurrency IS NULL THEN $2::int
                WHEN NOT $5::bool THEN 0
                ELSE greatest(q.max_concurrency - (SELECT count(*) FROM jobs h WHERE h.queue = q.name AND h.status IN ('ASSIGNED', 'RUNNING')), 0)::int
           END AS cap
    FROM queues q WHERE q.name = ANY($1::text[]) AND NOT q.paused
  ), candidates AS (
    SELECT c.id, c.priority, caps.max_retries, caps.timeout_seconds
    FROM caps, LATERAL (
      SELECT j.id, j.priority FROM jobs j
      WHERE j.queue = caps.name AND j.status = 'PENDING' AND (j.not_before IS NULL OR j.not_before <= now())
      ORDER BY j.priority DESC, j.id
      LIMIT least(caps.cap, $2::int)
      FOR UPDATE OF j SKIP LOCKED
    ) c
    ORDER BY c.priority DESC, c.id
    LIMIT $2::int
  ), claimed AS (
    UPDATE jobs j SET status = 'ASSIGNED', status_reason = 'CLAIMED', attempt = j.attempt + 1, worker_id = $3::uuid,
           assigned_at = now(), started_at = NULL, not_before = NULL,
           lease_expires_at = now() + $4::int * interval '1 millisecond', updated_at = now()
    FROM candidates c WHERE j.id = c.id
    RETURNING j.id, j.queue, j.attempt, j.payload, j.metadata, j.priority, j.created_at AS "createdAt",
              j.retry_count AS "retryCount", coalesce(j.max_retries, c.max_retries) AS "maxRetries",
              coalesce(j.timeout_seconds, c.timeout_seconds) AS "timeoutSeconds"
  ), events AS (
    INSERT INTO job_events (job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt)
    SELECT id, queue, 'job.assigned', 'PENDING', 'ASSIGNED', 'CLAIMED', $3::uuid, attempt FROM claimed ORDER BY id
    RETURNING id
  ), outboxed AS (
    INSERT INTO outbox (event_id) SELECT id FROM events ORDER BY id
  )
  SELECT * FROM claimed ORDER BY priority DESC, id`;

/** A delivery: (job, attempt) as written to a worker's stream. */
export interface Delivery {
  readonly jobId: string;
  readonly attempt: number;
}

/**
 * ASSIGNED → RUNNING for deliveries written to the worker's stream, in one statement, fenced by
 * attempt and worker. The execution deadline (lease_expires_at while RUNNING) starts now.
 * Returns the deadlines by job id; a delivery missing from the result was no longer ASSIGNED to
 * this worker (cancelled meanwhile) and the worker will be told to abort it.
 */
export async function markDelivered(pool: pg.Pool, workerId: string, deliveries: readonly Delivery[]): Promise<Map<string, Date | null>> {
  if (deliveries.length === 0) return new Map();
  const { rows } = await pool.query<{ id: string; deadline: Date | null }>(
    `WITH d AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS d(id, attempt)),
     target AS (
       SELECT j.id, coalesce(j.timeout_seconds, q.timeout_seconds) AS timeout_seconds
       FROM jobs j JOIN d ON d.id = j.id AND d.attempt = j.attempt JOIN queues q ON q.name = j.queue
       WHERE j.status = 'ASSIGNED' AND j.worker_id = $3::uuid
       ORDER BY j.id FOR UPDATE OF j
     ), changed AS (
       UPDATE jobs j SET status = 'RUNNING', status_reason = 'DELIVERED', started_at = now(), updated_at = now(),
              lease_expires_at = CASE WHEN t.timeout_seconds IS NULL THEN NULL ELSE now() + t.timeout_seconds * interval '1 second' END
       FROM target t WHERE j.id = t.id
       RETURNING j.id, j.queue, j.attempt, j.lease_expires_at AS deadline
     ), events AS (
       INSERT INTO job_events (job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt)
       SELECT id, queue, 'job.started', 'ASSIGNED', 'RUNNING', 'DELIVERED', $3::uuid, attempt FROM changed ORDER BY id
       RETURNING id
     ), outboxed AS (
       INSERT INTO outbox (event_id) SELECT id FROM events ORDER BY id
     )
     SELECT id, deadline FROM changed`,
    [deliveries.map((d) => d.jobId), deliveries.map((d) => d.attempt), workerId],
  );
  return new Map(rows.map((r) => [r.id, r.deadline]));
}

/**
 * ASSIGNED → PENDING for deliveries that could not be written (the stream broke) or whose worker
 * left before delivery. The attempt is "not consumed" in the sense that matters (SPEC §3): the
 * retry budget (retry_count) is untouched. The attempt number itself stays, so the next claim
 * gets a higher one: fencing tokens only ever grow, and a delivery that did reach the old worker
 * after all can never be confused with the new one.
 */
export async function handBackUndelivered(db: Db, workerId: string, deliveries: readonly Delivery[], reason: "DELIVERY_FAILED" | "WORKER_LOST" | "LEASE_EXPIRED"): Promise<number> {
  if (deliveries.length === 0) return 0;
  const { rows } = await db.query<{ n: number }>(
    `WITH d AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS d(id, attempt)),
     target AS (
       SELECT j.id FROM jobs j JOIN d ON d.id = j.id AND d.attempt = j.attempt
       WHERE j.status = 'ASSIGNED' AND j.worker_id = $3::uuid ORDER BY j.id FOR UPDATE OF j
     ), changed AS (
       UPDATE jobs j SET status = 'PENDING', status_reason = $4, worker_id = NULL,
              lease_expires_at = NULL, assigned_at = NULL, updated_at = now()
       FROM target t WHERE j.id = t.id
       RETURNING j.id, j.queue, j.attempt
     ), events AS (
       INSERT INTO job_events (job_id, queue, event_type, from_status, to_status, reason, worker_id, attempt)
       SELECT id, queue, 'job.requeued', 'ASSIGNED', 'PENDING', $4, $3::uuid, attempt FROM changed ORDER BY id
       RETURNING id
     ), outboxed AS (
       INSERT INTO outbox (event_id) SELECT id FROM events ORDER BY id
     ), notified AS (
       SELECT pg_notify('${JOBS_AVAILABLE_CHANNEL}', queue) FROM (SELECT DISTINCT queue FROM changed) q
     )
     SELECT count(*)::int AS n FROM changed, LATERAL (SELECT count(*) FROM notified) x`,
    [deliveries.map((d) => d.jobId), deliveries.map((d) => d.attempt), workerId, reason],
  );
  return rows[0]?.n ?? 0;
}
