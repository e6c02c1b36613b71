import { AlreadyExists, NotFound } from "../errors/index.js";
import { sqlState, type Db } from "../postgres/db.js";

export interface ScheduleRecord {
  readonly name: string;
  readonly queue: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly enabled: boolean;
  readonly payload: Buffer;
  readonly priority: number;
  readonly metadata: Record<string, string>;
  readonly maxRetries: number | null;
  readonly timeoutSeconds: number | null;
  readonly createdAt: Date;
}

const COLUMNS = `s.name, s.queue, s.cron, s.time_zone AS "timeZone", s.enabled, s.payload, s.priority, s.metadata,
  s.max_retries AS "maxRetries", s.timeout_seconds AS "timeoutSeconds", s.created_at AS "createdAt"`;

export async function createSchedule(db: Db, s: Omit<ScheduleRecord, "createdAt">): Promise<ScheduleRecord> {
  try {
    const { rows } = await db.query<ScheduleRecord>(
      `INSERT INTO schedules AS s (name, queue, cron, time_zone, enabled, payload, priority, metadata, max_retries, timeout_seconds)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
      [s.name, s.queue, s.cron, s.timeZone, s.enabled, s.payload, s.priority, JSON.stringify(s.metadata), s.maxRetries, s.timeoutSeconds],
    );
    return rows[0]!;
  } catch (err) {
    if (sqlState(err) === "23505") throw new AlreadyExists("schedule", s.name);
    if (sqlState(err) === "23503") throw new NotFound("queue", s.queue);
    throw err;
  }
}

export async function deleteSchedule(db: Db, name: string): Promise<void> {
  const { rowCount } = await db.query("DELETE FROM schedules WHERE name = $1", [name]);
  if (!rowCount) throw new NotFound("schedule", name);
}

/** Schedules by name after `afterName`, optionally of one queue. */
export async function listSchedules(db: Db, queue: string | null, afterName: string | null, limit: number): Promise<{ schedules: ScheduleRecord[]; more: boolean }> {
  const { rows } = await db.query<ScheduleRecord>(
    `SELECT ${COLUMNS} FROM schedules s
     WHERE ($1::text IS NULL OR s.queue = $1) AND ($2::text IS NULL OR s.name > $2)
     ORDER BY s.name LIMIT $3`,
    [queue, afterName, limit + 1],
  );
  return { schedules: rows.slice(0, limit), more: rows.length > limit };
}

export async function enabledSchedules(db: Db): Promise<ScheduleRecord[]> {
  return (await db.query<ScheduleRecord>(`SELECT ${COLUMNS} FROM schedules s WHERE s.enabled ORDER BY s.name`)).rows;
}

export async function getSchedule(db: Db, name: string): Promise<ScheduleRecord | undefined> {
  return (await db.query<ScheduleRecord>(`SELECT ${COLUMNS} FROM schedules s WHERE s.name = $1`, [name])).rows[0];
}
