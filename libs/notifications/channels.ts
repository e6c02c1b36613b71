/**
 * NOTIFY channels between API replicas (they never call each other, SPEC §1).
 *
 *   jq_jobs_available   payload: queue name [origin] — jobs became claimable (submit, resume, hand-back);
 *                                                      origin: the sending replica's token, when it has
 *                                                      already filled its own streams
 *   jq_worker_control   payload: WorkerControl JSON  — for the replica holding a worker's stream
 */
export const JOBS_AVAILABLE_CHANNEL = "jq_jobs_available";
export const WORKER_CONTROL_CHANNEL = "jq_worker_control";

/** A jq_jobs_available payload: the queue, then the origin after a space (queue names have none). */
export function jobsAvailablePayload(queue: string, origin?: string): string {
  return origin === undefined ? queue : `${queue} ${origin}`;
}

export function parseJobsAvailable(payload: string): { readonly queue: string; readonly origin: string | undefined } {
  const space = payload.indexOf(" ");
  return space < 0 ? { queue: payload, origin: undefined } : { queue: payload.slice(0, space), origin: payload.slice(space + 1) };
}

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
