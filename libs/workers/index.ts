export * from "./worker-store.js";
export * from "./worker-credentials.js";
