export * from "./finish-attempts.js";
export * from "./release-worker-jobs.js";
export * from "./reconcile-held-jobs.js";
