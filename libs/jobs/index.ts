export * from "./job-record.js";
export * from "./submit-jobs.js";
export * from "./transition-jobs.js";
export * from "./read-jobs.js";
export * from "./job-commands.js";
export * from "./dead-letters.js";
export * from "./job-store.js";
