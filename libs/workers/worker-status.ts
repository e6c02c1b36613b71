/** A worker's states, in the order the API and the dashboard list them. */
export const WORKER_STATUSES = ["ONLINE", "DRAINING", "OFFLINE"] as const;
export type WorkerStatus = (typeof WORKER_STATUSES)[number];
