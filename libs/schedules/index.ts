export * from "./cron.js";
export * from "./schedule-store.js";
