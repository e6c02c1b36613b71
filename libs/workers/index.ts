export * from "./worker-store.js";
export * from "./worker-credentials.js";
export * from "./worker-removal.js";
export { WORKER_STATUSES } from "./worker-status.js";
export * from "./held-jobs-reconciliation.js";
