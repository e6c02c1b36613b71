import { deadLetterJobs } from "../jobs/dead-letters.js";
import { deleteJobsWithSentEvents } from "../jobs/delete-jobs.js";
import { dueAtSql, eventRowRelayed, UNHELD_STATUSES_SQL, uuidV7Floor } from "../jobs/job-record.js";
import { JOBS_AVAILABLE_CHANNEL } from "../notifications/channels.js";
import type { Db } from "../postgres/db.js";

/**
 * PENDING jobs that waited longer than their queue's TTL are dead-lettered with reason EXPIRED
 * (SPEC §3). The wait is counted from when the job last entered PENDING (updated_at) or became
 * due (not_before), whichever is later: a job retried after a backoff, or delayed on purpose, is
 * not expired for time it was not allowed to run.
 *
 * Only a job that became due before the cutoff can have waited that long (updated_at is never
 * before created_at), and `jobs_claim_idx` keeps each queue's PENDING jobs by priority and then by
 * that due time (dueAtSql). So the read walks the index one priority at a
 * time (each priority present found from the previous one, as the claim does) and, in each, only
 * the range due before the cutoff: jobs submitted or delayed into the last TTL cost the sweep
 * nothing, where bounding by id still read every job created before the cutoff and delayed past
 * it, on every sweep. What the range still holds beyond expired jobs is those due long ago and back
 * in PENDING within the TTL (handed back, or retried by an operator).
 */
export async function sweepExpiredJobs(db: Db, batch = 500): Promise<number> {
  const cutoff = "now() - l.ttl_seconds * interval '1 second'";
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE levels AS (
       SELECT q.name AS queue, q.ttl_seconds, ${highestPriorityBelow("q.name", null)} AS priority
       FROM queues q WHERE q.ttl_seconds IS NOT NULL
       UNION ALL
       SELECT l.queue, l.ttl_seconds, ${highestPriorityBelow("l.queue", "l.priority")}
       FROM levels l WHERE l.priority IS NOT NULL
     )
     SELECT x.id FROM levels l, LATERAL (
       SELECT j.id FROM jobs j
       WHERE j.queue = l.queue AND j.status = 'PENDING' AND j.priority = l.priority
         AND ${dueAtSql("j")} < ${cutoff}
         AND greatest(j.updated_at, j.not_before) < ${cutoff}
       ORDER BY ${dueAtSql("j")}, j.id LIMIT $1) x
     LIMIT $1`,
    [batch],
  );
  const expired = await deadLetterJobs(db, rows.map((r) => r.id), "EXPIRED", "the queue's TTL passed while the job was PENDING");
  return expired.length;
}

/** The highest priority of a PENDING job of `queue` below `below` (any when null): one descent of jobs_claim_idx. */
function highestPriorityBelow(queue: string, below: string | null): string {
  return `(SELECT j.priority FROM jobs j WHERE j.queue = ${queue} AND j.status = 'PENDING'${below === null ? "" : ` AND j.priority < ${below}`}
           ORDER BY j.priority DESC LIMIT 1)`;
}

/**
 * Deletes DONE and DEAD_LETTERED jobs older than their queue's retention, together with their
 * events. A job with an event the relay has not sent yet is kept until it has, so
 * no event is lost and none is left behind without its job. Small batches, oldest first, skipping
 * rows someone else holds.
 */
export function sweepRetention(db: Db, batch = 1000): Promise<number> {
  return deleteJobsWithSentEvents(
    db,
    `SELECT j.id FROM queues q, unnest(ARRAY['DONE', 'DEAD_LETTERED']::job_status[]) AS s(status), LATERAL (
       SELECT j.id, j.completed_at FROM jobs j
       WHERE j.queue = q.name AND j.status = s.status AND j.status IN ${UNHELD_STATUSES_SQL} AND j.id < ${uuidV7Floor("now() - q.retention_seconds * interval '1 second'")}
         AND j.completed_at < now() - q.retention_seconds * interval '1 second'
       ORDER BY j.id LIMIT $1) x
     JOIN jobs j ON j.id = x.id
     WHERE NOT EXISTS (SELECT 1 FROM job_event_rows pending WHERE pending.job_id = j.id AND NOT ${eventRowRelayed("pending")})
     ORDER BY j.completed_at LIMIT $1 FOR UPDATE OF j SKIP LOCKED`,
    [batch],
  );
}

/**
 * Wakes dispatchers for queues whose delayed or backing-off jobs became due since the last pass,
 * so idle API replicas need not poll fast (SPEC §7).
 */
export async function wakeDueQueues(db: Db, sinceMs: number): Promise<number> {
  const { rows } = await db.query<{ queue: string }>(
    `SELECT DISTINCT queue FROM jobs
     WHERE status = 'PENDING' AND not_before > now() - $1::int * interval '1 millisecond' AND not_before <= now()`,
    [sinceMs],
  );
  if (rows.length > 0) {
    await db.query("SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q", [JOBS_AVAILABLE_CHANNEL, rows.map((r) => r.queue)]);
  }
  return rows.length;
}
