export * from "./queue-record.js";
export * from "./queue-store.js";
