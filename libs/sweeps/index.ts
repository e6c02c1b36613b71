export * from "./lost-workers.js";
export * from "./expired-leases.js";
export * from "./expiry-and-retention.js";
