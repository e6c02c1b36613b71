export * from "./worker-store.js";
export * from "./worker-credentials.js";
export * from "./worker-removal.js";
export * from "./held-jobs-reconciliation.js";
