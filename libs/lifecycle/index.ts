export * from "./job-status.js";
export * from "./transitions.js";
