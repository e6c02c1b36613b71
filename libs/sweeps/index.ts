export * from "./lost-workers.js";
export * from "./expired-leases.js";
