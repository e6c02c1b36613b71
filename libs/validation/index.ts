export * from "./queue-name.js";
export * from "./job-input.js";
export * from "./uuid.js";
