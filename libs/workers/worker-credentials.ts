import type { Db } from "../postgres/db.js";
import type { WorkerStatus } from "./worker-store.js";

/** What binds a worker id to its registration (migration 0006). */
export interface WorkerCredential {
  readonly status: WorkerStatus;
  /** SHA-256 of the secret RegisterWorker issued; null for a row registered before 0006. */
  readonly secretSha256: Buffer | null;
  /** Name of the API key that registered it. */
  readonly registeredBy: string | null;
}

export async function getWorkerCredential(db: Db, workerId: string): Promise<WorkerCredential | undefined> {
  const { rows } = await db.query<WorkerCredential>(
    `SELECT status, secret_sha256 AS "secretSha256", registered_by AS "registeredBy" FROM workers WHERE worker_id = $1`,
    [workerId],
  );
  return rows[0];
}

export async function setWorkerCredential(db: Db, workerId: string, secretSha256: Buffer, registeredBy: string): Promise<void> {
  await db.query("UPDATE workers SET secret_sha256 = $2, registered_by = $3 WHERE worker_id = $1", [workerId, secretSha256, registeredBy]);
}
