import { deadLetterJobs } from "../jobs/dead-letters.js";
import { deleteJobsWithSentEvents } from "../jobs/delete-jobs.js";
import { eventRowRelayed, UNHELD_STATUSES_SQL, uuidV7Floor } from "../jobs/job-record.js";
import { JOBS_AVAILABLE_CHANNEL } from "../notifications/channels.js";
import type { Db } from "../postgres/db.js";

/**
 * PENDING jobs that waited longer than their queue's TTL are dead-lettered with reason EXPIRED
 * (SPEC §3). The wait is counted from when the job last entered PENDING (updated_at) or became
 * due (not_before), whichever is later: a job retried after a backoff, or delayed on purpose, is
 * not expired for time it was not allowed to run. A job created after the cutoff cannot have
 * waited that long, so each queue's read is bounded to ids older than it (UUIDv7, made at submit):
 * a backlog of young jobs costs the sweep nothing, where it read every PENDING job of the queue
 * each second. A submitting replica's clock ahead of Postgres' delays an expiry by that much.
 */
export async function sweepExpiredJobs(db: Db, batch = 500): Promise<number> {
  const cutoff = "now() - q.ttl_seconds * interval '1 second'";
  const { rows } = await db.query<{ id: string }>(
    `SELECT x.id FROM queues q, LATERAL (
       SELECT j.id FROM jobs j
       WHERE j.queue = q.name AND j.status = 'PENDING' AND j.id < ${uuidV7Floor(cutoff)}
         AND greatest(j.updated_at, coalesce(j.not_before, j.updated_at)) < ${cutoff}
       ORDER BY j.id LIMIT $1) x
     WHERE q.ttl_seconds IS NOT NULL
     ORDER BY x.id LIMIT $1`,
    [batch],
  );
  const expired = await deadLetterJobs(db, rows.map((r) => r.id), "EXPIRED", "the queue's TTL passed while the job was PENDING");
  return expired.length;
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
