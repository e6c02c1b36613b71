export * from "./claim-jobs.js";
