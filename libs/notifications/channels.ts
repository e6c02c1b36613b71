/**
 * NOTIFY channels between API replicas (they never call each other, SPEC §1).
 *
 *   jq_jobs_available   payload: queue name          — jobs became claimable (submit, resume, hand-back)
 *   jq_worker_control   payload: WorkerControl JSON  — for the replica holding a worker's stream
 */
export const JOBS_AVAILABLE_CHANNEL = "jq_jobs_available";
export const WORKER_CONTROL_CHANNEL = "jq_worker_control";

export type WorkerControl =
  /** A result for the worker was recorded elsewhere: recount its held jobs and refill. */
  | { readonly kind: "slots"; readonly worker: string }
  /** Abort a delivery (CancelJob, timeout, lost). */
  | { readonly kind: "cancel"; readonly worker: string; readonly job: string; readonly attempt: number; readonly reason: string; readonly message: string }
  /** DrainWorker was called. */
  | { readonly kind: "drain"; readonly worker: string }
  /** The worker went OFFLINE (Deregister elsewhere, or declared lost): close its stream. */
  | { readonly kind: "offline"; readonly worker: string };

export function parseWorkerControl(payload: string): WorkerControl | undefined {
  try {
    const v = JSON.parse(payload) as Partial<WorkerControl>;
    return typeof v.worker === "string" && typeof v.kind === "string" ? (v as WorkerControl) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends a control message to whichever replica holds the worker's stream. */
export async function notifyWorkerControl(db: { query(text: string, values: unknown[]): Promise<unknown> }, message: WorkerControl): Promise<void> {
  await db.query("SELECT pg_notify($1, $2)", [WORKER_CONTROL_CHANNEL, JSON.stringify(message)]);
}
