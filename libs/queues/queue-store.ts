import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound } from "../errors/index.js";
import { JOBS_AVAILABLE_CHANNEL } from "../notifications/channels.js";
import { deadLetterJobs } from "../jobs/dead-letters.js";
import { dueAtSql, eventRowRelayed, HELD_STATUSES_SQL, statusesSql, UNHELD_STATUSES, UNHELD_STATUSES_SQL } from "../jobs/job-record.js";
import { JOB_STATUSES, type JobStatus } from "../lifecycle/index.js";
import { sqlState, withTransaction, type Db } from "../postgres/db.js";
import type pg from "pg";
import { QUEUE_COLUMNS, SETTING_COLUMNS, type QueueRecord, type QueueSettings, type QueueStats } from "./queue-record.js";

export async function createQueue(db: Db, name: string, s: QueueSettings, paused: boolean): Promise<QueueRecord> {
  checkBackoff(s.backoffBaseMs, s.backoffMaxMs);
  try {
    const { rows } = await db.query<QueueRecord>(
      `INSERT INTO queues AS q (name, paused, max_retries, ttl_seconds, backoff_base_ms, backoff_max_ms, timeout_seconds, max_concurrency, retention_seconds)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${QUEUE_COLUMNS}`,
      [name, paused, s.maxRetries, s.ttlSeconds, s.backoffBaseMs, s.backoffMaxMs, s.timeoutSeconds, s.maxConcurrency, s.retentionSeconds],
    );
    return rows[0]!;
  } catch (err) {
    if (sqlState(err) === "23505") throw new AlreadyExists("queue", name);
    throw err;
  }
}

/** Changes only the given settings; the backoff range is checked against the merged result. */
export async function updateQueue(db: pg.Pool, name: string, changes: Partial<QueueSettings>): Promise<QueueRecord> {
  const keys = Object.keys(changes) as (keyof QueueSettings)[];
  if (keys.length === 0) throw new InvalidArgument("update_mask", "names no setting to change");
  return withTransaction(db, async (tx) => {
    const current = await lockQueue(tx, name);
    checkBackoff(changes.backoffBaseMs ?? current.backoffBaseMs, changes.backoffMaxMs ?? current.backoffMaxMs);
    const sets = keys.map((k, i) => `${SETTING_COLUMNS[k]} = $${i + 2}`);
    const { rows } = await tx.query<QueueRecord>(
      `UPDATE queues q SET ${sets.join(", ")}, updated_at = now() WHERE q.name = $1 RETURNING ${QUEUE_COLUMNS}`,
      [name, ...keys.map((k) => changes[k])],
    );
    return rows[0]!;
  });
}

/** Statuses other than DONE read through jobs_queue_status_id_idx (a queue with only DONE jobs may be deleted). */
const UNFINISHED_UNHELD_SQL = statusesSql(UNHELD_STATUSES.filter((s) => s !== "DONE"));

/**
 * Deletes a queue. Without `force` it may hold only DONE jobs and be the target of no schedule.
 * With `force` its unfinished jobs are cancelled first (their `job.cancelled` events reach the
 * outbox), then the queue, its jobs, its schedules and the events the relay has already sent
 * are deleted. The queue row is locked first, so a
 * concurrent submit (whose statement locks that row FOR KEY SHARE) waits and then finds no queue.
 */
export async function deleteQueue(db: pg.Pool, name: string, force: boolean): Promise<{ deletedJobs: number; deletedSchedules: number }> {
  return withTransaction(db, async (tx) => {
    await lockQueue(tx, name);
    const { rows } = await tx.query<{ status: JobStatus; n: number }>(
      `SELECT status, count(*)::int AS n FROM jobs
       WHERE queue = $1 AND (status IN ${UNFINISHED_UNHELD_SQL} OR status IN ${HELD_STATUSES_SQL}) GROUP BY status`,
      [name],
    );
    if (rows.length > 0 && !force) {
      const held = rows.map((r) => `${r.n} ${r.status}`).join(", ");
      throw new FailedPrecondition(`queue ${name} still holds jobs (${held}); delete with force, or purge and wait for them first`);
    }
    const { rows: schedules } = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM schedules WHERE queue = $1", [name]);
    if (schedules[0]!.n > 0 && !force) {
      throw new FailedPrecondition(`queue ${name} is the target of ${schedules[0]!.n} schedule(s); delete them or delete with force`);
    }
    if (force) {
      const { rows: unfinished } = await tx.query<{ id: string }>(
        `SELECT id FROM jobs WHERE queue = $1 AND (status = 'PENDING' OR status IN ${HELD_STATUSES_SQL})`,
        [name],
      );
      await deadLetterJobs(tx, unfinished.map((r) => r.id), "CANCELLED", `queue ${name} deleted`);
    }
    await tx.query(
      `DELETE FROM job_event_rows e WHERE e.queue = $1 AND ${eventRowRelayed("e")}`,
      [name],
    );
    const deleted = await tx.query("DELETE FROM jobs WHERE queue = $1", [name]);
    const deletedSchedules = await tx.query("DELETE FROM schedules WHERE queue = $1", [name]);
    await tx.query("DELETE FROM queues WHERE name = $1", [name]);
    return { deletedJobs: deleted.rowCount ?? 0, deletedSchedules: deletedSchedules.rowCount ?? 0 };
  });
}

export async function getQueue(db: Db, name: string): Promise<QueueRecord> {
  const { rows } = await db.query<QueueRecord>(`SELECT ${QUEUE_COLUMNS} FROM queues q WHERE q.name = $1`, [name]);
  if (!rows[0]) throw new NotFound("queue", name);
  return rows[0];
}

/** Queues by name, strictly after `afterName`. */
export async function listQueues(db: Db, afterName: string | null, limit: number): Promise<{ queues: QueueRecord[]; more: boolean }> {
  const { rows } = await db.query<QueueRecord>(
    `SELECT ${QUEUE_COLUMNS} FROM queues q WHERE ($1::text IS NULL OR q.name > $1) ORDER BY q.name LIMIT $2`,
    [afterName, limit + 1],
  );
  return { queues: rows.slice(0, limit), more: rows.length > limit };
}

/** Pauses or resumes dispatch; resuming wakes dispatchers. Idempotent. */
export async function setQueuePaused(db: Db, name: string, paused: boolean): Promise<QueueRecord> {
  const { rows } = await db.query<QueueRecord>(
    `WITH changed AS (
       UPDATE queues q SET paused = $2, updated_at = CASE WHEN q.paused = $2 THEN q.updated_at ELSE now() END
       WHERE q.name = $1 RETURNING ${QUEUE_COLUMNS}
     )
     SELECT changed.* FROM changed
     LEFT JOIN LATERAL (SELECT pg_notify('${JOBS_AVAILABLE_CHANNEL}', changed.name) WHERE NOT $2) n ON true`,
    [name, paused],
  );
  if (!rows[0]) throw new NotFound("queue", name);
  return rows[0];
}

/**
 * Depth per state, oldest due PENDING age and scheduled count, for each named queue. A job's age
 * counts from when it became due (dueAtSql), the time claims order by (migration 0015).
 */
export async function queueStats(db: Db, names: readonly string[]): Promise<Map<string, QueueStats>> {
  const stats = new Map<string, { depth: Record<JobStatus, number>; oldestPendingAgeMs: number | null; scheduled: number }>();
  for (const name of names) {
    stats.set(name, {
      depth: Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>,
      oldestPendingAgeMs: null,
      scheduled: 0,
    });
  }
  if (names.length === 0) return stats;
  const [depth, pending] = await Promise.all([
    db.query<{ queue: string; status: JobStatus; n: string }>(
      `SELECT queue, status, count(*) AS n FROM jobs
       WHERE queue = ANY($1::text[]) AND (status IN ${UNHELD_STATUSES_SQL} OR status IN ${HELD_STATUSES_SQL}) GROUP BY queue, status`,
      [names],
    ),
    db.query<{ queue: string; age_ms: string | null; scheduled: string }>(
      `SELECT queue,
              (extract(epoch FROM now() - min(${dueAtSql("j")}) FILTER (WHERE ${dueAtSql("j")} <= now())) * 1000)::bigint AS age_ms,
              count(*) FILTER (WHERE not_before > now()) AS scheduled
       FROM jobs j WHERE queue = ANY($1::text[]) AND status = 'PENDING' GROUP BY queue`,
      [names],
    ),
  ]);
  for (const r of depth.rows) stats.get(r.queue)!.depth[r.status] = Number(r.n);
  for (const r of pending.rows) {
    const s = stats.get(r.queue)!;
    s.oldestPendingAgeMs = r.age_ms === null ? null : Math.max(0, Number(r.age_ms));
    s.scheduled = Number(r.scheduled);
  }
  return stats;
}

async function lockQueue(tx: pg.PoolClient, name: string): Promise<QueueRecord> {
  const { rows } = await tx.query<QueueRecord>(`SELECT ${QUEUE_COLUMNS} FROM queues q WHERE q.name = $1 FOR UPDATE`, [name]);
  if (!rows[0]) throw new NotFound("queue", name);
  return rows[0];
}

function checkBackoff(baseMs: number, maxMs: number): void {
  if (maxMs < baseMs) throw new InvalidArgument("settings.backoff_max", `must be at least backoff_base (${baseMs} ms), got ${maxMs} ms`);
}

/** Which of `names` are queues. */
export async function existingQueueNames(db: Db, names: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM queues WHERE name = ANY($1::text[])", [names]);
  return new Set(rows.map((r) => r.name));
}

/** The queues with a max_concurrency (dispatch claims them under a lock). */
export async function limitedQueueNames(db: Db): Promise<Set<string>> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM queues WHERE max_concurrency IS NOT NULL");
  return new Set(rows.map((r) => r.name));
}
