export * from "./worker-store.js";
export * from "./worker-credentials.js";
export * from "./worker-removal.js";
