import { NotFound } from "../errors/index.js";
import type { Db } from "../postgres/db.js";
import { sqlState } from "../postgres/db.js";
import { namedStatement, unnestParams } from "../postgres/named-statement.js";
import { newJobIds } from "./job-ids.js";
import { JOB_COLUMNS_FULL, jobColumnsOf, type JobRecord } from "./job-record.js";
import { appendEvents, CLAIMED, FIRST_EVENT_XID, move, statusValues } from "./transition-sql.js";

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
  /** Set when the job was handed off at submit (it is ASSIGNED to the worker offered for it). */
  readonly handedOff?: HandedOff;
}

/** What a stream assignment needs beyond the job row: its queue's defaults. */
export interface HandedOff {
  readonly queueMaxRetries: number;
  readonly queueTimeoutSeconds: number | null;
}

/**
 * Workers offered for jobs of a submit, one per job (null: none), by a replica whose streams have
 * free slots. A job offered a worker is inserted already ASSIGNED to it (its SUBMITTED event now,
 * its CLAIMED event with its next move, as after any claim), saving the claim's statement and commit, when its queue is unpaused, has no
 * `max_concurrency` and holds no claimable PENDING job: a hand-off never jumps a queue.
 */
export interface HandOffRequest {
  readonly workers: readonly (string | null)[];
  /** How long the assignment stays ASSIGNED before it is handed back (as for a claim). */
  readonly leaseMs: number;
}


/**
 * Creates jobs in one statement, all or nothing: the jobs rows and their `job.submitted` events. The caller wakes dispatchers afterwards (QueueWaker), outside this transaction, so
 * submits do not queue behind Postgres's NOTIFY commit lock. A job whose
 * (queue, idempotency key) already exists is not created; the existing job is returned with
 * `deduplicated`. Concurrent identical submits meet on the unique index: one inserts, the others
 * wait for its commit and then read its row.
 */
export async function submitJobs(db: Db, jobs: readonly NewJob[], handOff?: HandOffRequest): Promise<SubmittedJob[]> {
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
  const ids = newJobIds(input.length);

  let inserted: InsertedRow[];
  try {
    // ON CONFLICT makes every row a speculative insert (more WAL, more work): only when needed.
    const insert = input.some((j) => j.idempotencyKey !== null) ? INSERT_JOBS_IDEMPOTENT : INSERT_JOBS;
    ({ rows: inserted } = await db.query<InsertedRow>(
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
        unique.map((i) => handOff?.workers[i] ?? null),
        handOff?.leaseMs ?? 0,
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
    if (created) {
      const { queueMaxRetries, queueTimeoutSeconds, ...stored } = created;
      const handedOff = queueMaxRetries === null ? undefined : { queueMaxRetries, queueTimeoutSeconds };
      return resultOfUnique.set(i, { job: newJobRecord(input[n]!, stored), deduplicated: false, ...(handedOff && { handedOff }) });
    }
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

/**
 * The columns of a new job row that Postgres decides (NEW_JOB_COLUMNS). The rest are the request's
 * own values, already in memory: reading payload and metadata back would make Postgres encode them
 * and this process decode them again for every job (a 1 MiB payload came back as 2 MiB of hex).
 */
const STORED_FIELDS = ["id", "status", "statusReason", "attempt", "workerId", "leaseExpiresAt", "createdAt", "notBefore", "assignedAt", "updatedAt"] as const;
type StoredColumns = Pick<JobRecord, (typeof STORED_FIELDS)[number]>;

/** A new job row, with its queue's defaults when it was handed off (null otherwise). */
type InsertedRow = StoredColumns & { readonly queueMaxRetries: number | null; readonly queueTimeoutSeconds: number | null };

/** What the insert returns: the stored fields, and the queue the statement's last SELECT joins on. */
const NEW_JOB_COLUMNS = jobColumnsOf(["queue", ...STORED_FIELDS]);

/** The JobRecord of a job just inserted: what Postgres decided, and the request's values as stored. */
function newJobRecord(job: NewJob, stored: StoredColumns): JobRecord {
  return {
    ...stored,
    queue: job.queue,
    priority: job.priority,
    payload: job.payload,
    metadata: job.metadata,
    idempotencyKey: job.idempotencyKey,
    retryCount: 0,
    maxRetries: job.maxRetries,
    timeoutSeconds: job.timeoutSeconds,
    result: null,
    errorMessage: null,
    startedAt: null,
    completedAt: null,
  };
}

const SUBMITTED = move(null, "PENDING", "SUBMITTED");
const pending = statusValues(SUBMITTED);
const assigned = statusValues(CLAIMED);

/**
 * $1…$10 the jobs' columns, $11 the worker offered for each (or null), $12 the lease in ms.
 *
 * `known` is what the foreign key from jobs to queues did, once per queue instead of once per job
 * (migration 0009): it locks each queue row FOR KEY SHARE, so a DeleteQueue (which locks the row
 * FOR UPDATE) either waits for this insert and then deletes its jobs, or commits first and the
 * lock finds the row gone; a job whose queue is not there makes `jq_missing_queue` raise the
 * foreign-key error (23503) and the whole statement fails, as before. The per-row trigger of the
 * key cost a quarter of a one-job submit's time in Postgres (docs/write-path.md).
 *
 * The `open` queues are those an offered job may be handed off in (HandOffRequest): unpaused,
 * unlimited, and holding no due PENDING job. The CASE keeps the look for one to the queues with an
 * offered job (as a plain condition the planner ran it for every queue of the submit before the
 * join that tells which have one). The look is `jq_has_due_pending` (migrations 0014, 0015),
 * statements of their own planned as walks of `jobs_claim_idx`, one per priority present, each
 * ending at its first row or its first job not yet due: inline, a plan cached while the
 * statistics showed few PENDING jobs read every PENDING job of the queue and sorted them, and
 * before that, as `NOT EXISTS`, one made on many chose a sequential scan (docs/write-path.md,
 * "Plans that read a whole backlog to sort it", "Jobs that are not due yet").
 */
const insertJobs = (onConflict: string) => `
  WITH input AS (
    SELECT * FROM ${unnestParams("uuid", "text", "bytea", "smallint", "int", "int", "bigint", "timestamptz", "text", "jsonb", "uuid")}
      WITH ORDINALITY AS t(id, queue, payload, priority, max_retries, timeout_seconds, delay_ms, run_at,
                           idempotency_key, metadata, offered_to, ord)
  ), known AS (
    SELECT q.name, q.paused, q.max_concurrency, q.max_retries, q.timeout_seconds FROM queues q
    WHERE q.name IN (SELECT queue FROM input)
    FOR KEY SHARE
  ), open AS (
    SELECT k.name, k.max_retries, k.timeout_seconds FROM known k
    WHERE NOT k.paused AND k.max_concurrency IS NULL
      AND CASE WHEN k.name IN (SELECT queue FROM input WHERE offered_to IS NOT NULL) THEN NOT jq_has_due_pending(k.name) ELSE false END
  ), inserted AS (
    INSERT INTO jobs AS j (id, queue, payload, priority, max_retries, timeout_seconds, not_before, idempotency_key, metadata, event_xid,
                           status, status_reason, attempt, worker_id, assigned_at, lease_expires_at)
    SELECT i.id, coalesce(k.name, jq_missing_queue(i.queue)), i.payload, i.priority, i.max_retries, i.timeout_seconds,
           CASE WHEN i.delay_ms IS NOT NULL THEN now() + i.delay_ms * interval '1 millisecond' ELSE i.run_at END,
           i.idempotency_key, i.metadata, ${FIRST_EVENT_XID},
           CASE WHEN o.name IS NULL THEN ${pending.status} ELSE ${assigned.status} END,
           CASE WHEN o.name IS NULL THEN ${pending.reason} ELSE ${assigned.reason} END,
           CASE WHEN o.name IS NULL THEN 0 ELSE 1 END,
           CASE WHEN o.name IS NULL THEN NULL ELSE i.offered_to END,
           CASE WHEN o.name IS NULL THEN NULL ELSE now() END,
           CASE WHEN o.name IS NULL THEN NULL ELSE now() + $12::int * interval '1 millisecond' END
    FROM input i LEFT JOIN known k ON k.name = i.queue LEFT JOIN open o ON o.name = i.queue AND i.offered_to IS NOT NULL
    ORDER BY i.ord
    ${onConflict}
    RETURNING ${NEW_JOB_COLUMNS}
  ), events AS (
    ${appendEvents(SUBMITTED, "inserted", { xid: FIRST_EVENT_XID, attempt: "0" })}
  )
  SELECT inserted.*, o.max_retries AS "queueMaxRetries", o.timeout_seconds AS "queueTimeoutSeconds"
  FROM inserted LEFT JOIN open o ON o.name = inserted.queue AND inserted."workerId" IS NOT NULL`;

const INSERT_JOBS = namedStatement(insertJobs(""));
const INSERT_JOBS_IDEMPOTENT = namedStatement(insertJobs("ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"));
