import { FailedPrecondition, NotFound } from "../errors/index.js";
import type { Db } from "../postgres/db.js";
import { namedStatement } from "../postgres/named-statement.js";
import type { WorkerStatus } from "./worker-status.js";

export type { WorkerStatus };

export interface WorkerRecord {
  readonly workerId: string;
  readonly hostname: string;
  readonly queues: string[];
  readonly concurrency: number;
  readonly status: WorkerStatus;
  readonly nodeId: string | null;
  readonly labels: Record<string, string>;
  readonly sdkVersion: string;
  readonly registeredAt: Date;
  readonly lastHeartbeat: Date;
  /** Jobs it holds (ASSIGNED or RUNNING); filled by reads that ask for it. */
  readonly activeJobs: number;
}

const WORKER_COLUMNS = `w.worker_id AS "workerId", w.hostname, w.queues, w.concurrency, w.status, w.node_id AS "nodeId",
  w.labels, w.sdk_version AS "sdkVersion", w.registered_at AS "registeredAt", w.last_heartbeat AS "lastHeartbeat"`;
const ACTIVE_JOBS = `(SELECT count(*)::int FROM jobs h WHERE h.worker_id = w.worker_id AND h.status IN ('ASSIGNED', 'RUNNING')) AS "activeJobs"`;

export interface Registration {
  readonly workerId: string;
  readonly hostname: string;
  readonly sdkVersion: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly labels: Record<string, string>;
}

/**
 * Registers a worker, or registers it again after a restart or after it was declared lost: it is
 * ONLINE from now, with the declared queues and capacity. Which replica holds its stream is set
 * when the stream opens.
 */
export async function registerWorker(db: Db, r: Registration): Promise<WorkerRecord> {
  const { rows } = await db.query<WorkerRecord>(
    `INSERT INTO workers AS w (worker_id, hostname, sdk_version, queues, concurrency, labels, status, registered_at, last_heartbeat)
     VALUES ($1, $2, $3, $4, $5, $6, 'ONLINE', now(), now())
     ON CONFLICT (worker_id) DO UPDATE SET hostname = $2, sdk_version = $3, queues = $4, concurrency = $5, labels = $6,
       status = 'ONLINE', registered_at = now(), last_heartbeat = now()
     RETURNING ${WORKER_COLUMNS}, ${ACTIVE_JOBS}`,
    [r.workerId, r.hostname, r.sdkVersion, r.queues, r.concurrency, JSON.stringify(r.labels)],
  );
  return rows[0]!;
}

export async function getWorker(db: Db, workerId: string): Promise<WorkerRecord> {
  const { rows } = await db.query<WorkerRecord>(`SELECT ${WORKER_COLUMNS}, ${ACTIVE_JOBS} FROM workers w WHERE w.worker_id = $1`, [workerId]);
  if (!rows[0]) throw new NotFound("worker", workerId);
  return rows[0];
}

/**
 * A job stream of `workerId` opened on replica `nodeId`: the row points at that replica under the
 * next stream generation, which the stream keeps to detach itself later (migration 0007). Also the
 * worker's status as of this write: a drain or deregistration that committed after the stream
 * first read the row, but before the replica could hear of it, shows here.
 */
export async function attachWorkerStream(db: Db, workerId: string, nodeId: string): Promise<{ generation: string; status: WorkerStatus } | undefined> {
  const { rows } = await db.query<{ generation: string; status: WorkerStatus }>(
    `UPDATE workers SET node_id = $2, stream_generation = stream_generation + 1, last_heartbeat = now()
     WHERE worker_id = $1 RETURNING stream_generation::text AS generation, status`,
    [workerId, nodeId],
  );
  return rows[0];
}

/**
 * The stream of `generation` ended: the row lets go of its replica only when no newer stream took
 * it meanwhile, so an old replica closing a replaced stream (issue 13 item 8) never detaches the
 * worker from the replica that serves it now. False when a newer stream holds the row.
 */
export async function detachWorkerStream(db: Db, workerId: string, generation: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE workers SET node_id = NULL, last_heartbeat = now() WHERE worker_id = $1 AND stream_generation = $2::bigint",
    [workerId, generation],
  );
  return (rowCount ?? 0) > 0;
}

/** $1 worker ids. */
const RECORD_HEARTBEATS = namedStatement(
  `UPDATE workers w SET last_heartbeat = CASE WHEN w.status = 'OFFLINE' THEN w.last_heartbeat ELSE now() END
   FROM unnest($1::uuid[]) AS h(id) WHERE w.worker_id = h.id
   RETURNING w.worker_id, w.status`,
);

/**
 * Records many heartbeats in one statement (a replica coalesces them), returning each live
 * worker's status; workers not returned are unknown.
 */
export async function recordHeartbeats(db: Db, workerIds: readonly string[]): Promise<Map<string, WorkerStatus>> {
  if (workerIds.length === 0) return new Map();
  const { rows } = await db.query<{ worker_id: string; status: WorkerStatus }>(RECORD_HEARTBEATS([workerIds]));
  return new Map(rows.map((r) => [r.worker_id, r.status]));
}

/** DrainWorker: ONLINE → DRAINING (a no-op when already draining); refused for an OFFLINE worker. */
export async function drainWorker(db: Db, workerId: string): Promise<WorkerRecord> {
  const { rows } = await db.query<WorkerRecord>(
    `UPDATE workers w SET status = CASE WHEN w.status = 'ONLINE' THEN 'DRAINING'::worker_status ELSE w.status END
     WHERE w.worker_id = $1 RETURNING ${WORKER_COLUMNS}, ${ACTIVE_JOBS}`,
    [workerId],
  );
  const worker = rows[0];
  if (!worker) throw new NotFound("worker", workerId);
  if (worker.status === "OFFLINE") throw new FailedPrecondition(`worker ${workerId} is OFFLINE; it cannot be drained`);
  return worker;
}

/** Marks a worker OFFLINE; returns its previous status (undefined when unknown). */
export async function markWorkerOffline(db: Db, workerId: string): Promise<WorkerStatus | undefined> {
  const { rows } = await db.query<{ previous: WorkerStatus }>(
    `UPDATE workers w SET status = 'OFFLINE', node_id = NULL FROM (SELECT status FROM workers WHERE worker_id = $1 FOR UPDATE) old
     WHERE w.worker_id = $1 RETURNING old.status AS previous`,
    [workerId],
  );
  return rows[0]?.previous;
}

/** Workers by id, after `afterId`, optionally of one queue and some statuses, with their active jobs. */
export async function listWorkers(
  db: Db,
  filter: { queue: string | null; statuses: readonly WorkerStatus[] },
  afterId: string | null,
  limit: number,
): Promise<{ workers: WorkerRecord[]; more: boolean }> {
  const { rows } = await db.query<WorkerRecord>(
    `SELECT ${WORKER_COLUMNS}, ${ACTIVE_JOBS} FROM workers w
     WHERE ($1::text IS NULL OR $1 = ANY(w.queues))
       AND (cardinality($2::worker_status[]) = 0 OR w.status = ANY($2::worker_status[]))
       AND ($3::uuid IS NULL OR w.worker_id > $3)
     ORDER BY w.worker_id LIMIT $4`,
    [filter.queue, filter.statuses, afterId, limit + 1],
  );
  return { workers: rows.slice(0, limit), more: rows.length > limit };
}
