export * from "./node-announcer.js";
export * from "./cluster-status.js";
export { JQ_VERSION } from "./version.js";
