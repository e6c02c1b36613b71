export * from "./lost-workers.js";
export * from "./expired-leases.js";
export * from "./expiry-and-retention.js";
export * from "./expired-workers.js";
