import { v7 as uuidv7 } from "uuid";
import { NotFound } from "../errors/index.js";
import type { Db } from "../postgres/db.js";
import { sqlState } from "../postgres/db.js";
import { namedStatement } from "../postgres/named-statement.js";
import { JOB_COLUMNS_FULL, type JobRecord } from "./job-record.js";
import { appendEvents, FIRST_EVENT_XID, move } from "./transition-sql.js";

/** A validated job to create (the edge has checked names, sizes and ranges). */
export interface NewJob {
  readonly queue: string;
  readonly payload: Buffer;
  readonly metadata: Record<string, string>;
  readonly priority: number;
  readonly maxRetries: number | null;
  readonly timeoutSeconds: number | null;
  /** Delay from the database's now; exclusive with runAt. */
  readonly delayMs: number | null;
  readonly runAt: Date | null;
  readonly idempotencyKey: string | null;
}

export interface SubmittedJob {
  readonly job: JobRecord;
  /** True when an earlier job with the same (queue, idempotency key) was returned instead. */
  readonly deduplicated: boolean;
}


/**
 * Creates jobs in one statement, all or nothing: the jobs rows and their `job.submitted` events. The caller wakes dispatchers afterwards (QueueWaker), outside this transaction, so
 * submits do not queue behind Postgres's NOTIFY commit lock. A job whose
 * (queue, idempotency key) already exists is not created; the existing job is returned with
 * `deduplicated`. Concurrent identical submits meet on the unique index: one inserts, the others
 * wait for its commit and then read its row.
 */
export async function submitJobs(db: Db, jobs: readonly NewJob[]): Promise<SubmittedJob[]> {
  if (jobs.length === 0) return [];
  // Within one batch, a repeated (queue, key) maps to its first occurrence.
  const firstByKey = new Map<string, number>();
  const unique: number[] = [];
  jobs.forEach((j, i) => {
    if (j.idempotencyKey === null) return unique.push(i);
    const k = `${j.queue}\u0000${j.idempotencyKey}`;
    if (!firstByKey.has(k)) {
      firstByKey.set(k, i);
      unique.push(i);
    }
  });
  const input = unique.map((i) => jobs[i]!);
  const ids = input.map(() => uuidv7());

  let inserted: JobRecord[];
  try {
    // ON CONFLICT makes every row a speculative insert (more WAL, more work): only when needed.
    const insert = input.some((j) => j.idempotencyKey !== null) ? INSERT_JOBS_IDEMPOTENT : INSERT_JOBS;
    ({ rows: inserted } = await db.query<JobRecord>(
      insert([
        ids,
        input.map((j) => j.queue),
        input.map((j) => j.payload),
        input.map((j) => j.priority),
        input.map((j) => j.maxRetries),
        input.map((j) => j.timeoutSeconds),
        input.map((j) => j.delayMs),
        input.map((j) => j.runAt),
        input.map((j) => j.idempotencyKey),
        input.map((j) => JSON.stringify(j.metadata)),
      ]),
    ));
  } catch (err) {
    if (sqlState(err) === "23503") throw new NotFound("queue", missingQueue(err) ?? input[0]!.queue);
    throw err;
  }

  const byId = new Map(inserted.map((r) => [r.id, r]));
  const existing = await findExisting(
    db,
    input.filter((j, n) => j.idempotencyKey !== null && !byId.has(ids[n]!)),
  );

  const resultOfUnique = new Map<number, SubmittedJob>();
  unique.forEach((i, n) => {
    const created = byId.get(ids[n]!);
    if (created) return resultOfUnique.set(i, { job: created, deduplicated: false });
    const j = jobs[i]!;
    const found = existing.get(`${j.queue}\u0000${j.idempotencyKey}`);
    // Only possible if the first job was deleted between the two statements (retention).
    if (!found) throw new Error(`idempotent submit raced with deletion of (${j.queue}, ${j.idempotencyKey}); retry`);
    resultOfUnique.set(i, { job: found, deduplicated: true });
  });
  return jobs.map((j, i) => {
    const own = resultOfUnique.get(i);
    if (own) return own;
    const first = resultOfUnique.get(firstByKey.get(`${j.queue}\u0000${j.idempotencyKey}`)!)!;
    return { job: first.job, deduplicated: true };
  });
}

async function findExisting(db: Db, jobs: readonly NewJob[]): Promise<Map<string, JobRecord>> {
  if (jobs.length === 0) return new Map();
  const { rows } = await db.query<JobRecord>(
    `SELECT ${JOB_COLUMNS_FULL} FROM jobs j
     JOIN unnest($1::text[], $2::text[]) AS k(queue, idempotency_key)
       ON j.queue = k.queue AND j.idempotency_key = k.idempotency_key`,
    [jobs.map((j) => j.queue), jobs.map((j) => j.idempotencyKey)],
  );
  return new Map(rows.map((r) => [`${r.queue}\u0000${r.idempotencyKey}`, r]));
}

function missingQueue(err: unknown): string | undefined {
  const detail = (err as { detail?: string }).detail ?? "";
  return /Key \(queue\)=\((.*)\) is not present/.exec(detail)?.[1];
}

const SUBMITTED = move(null, "PENDING", "SUBMITTED");

const insertJobs = (onConflict: string) => `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::smallint[], $5::int[], $6::int[],
                         $7::bigint[], $8::timestamptz[], $9::text[], $10::jsonb[])
      WITH ORDINALITY AS t(id, queue, payload, priority, max_retries, timeout_seconds, delay_ms, run_at,
                           idempotency_key, metadata, ord)
  ), inserted AS (
    INSERT INTO jobs AS j (id, queue, payload, priority, max_retries, timeout_seconds, not_before, idempotency_key, metadata, event_xid)
    SELECT id, queue, payload, priority, max_retries, timeout_seconds,
           CASE WHEN delay_ms IS NOT NULL THEN now() + delay_ms * interval '1 millisecond' ELSE run_at END,
           idempotency_key, metadata, ${FIRST_EVENT_XID}
    FROM input ORDER BY ord
    ${onConflict}
    RETURNING ${JOB_COLUMNS_FULL}
  ), events AS (
    ${appendEvents(SUBMITTED, "inserted", { xid: FIRST_EVENT_XID })}
  )
  SELECT inserted.* FROM inserted`;

const INSERT_JOBS = namedStatement(insertJobs(""));
const INSERT_JOBS_IDEMPOTENT = namedStatement(insertJobs("ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"));
