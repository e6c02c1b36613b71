export * from "./worker-store.js";
