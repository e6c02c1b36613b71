export { component, type Component } from "./component.js";
export { runProcess, EXIT_CONFIG, type AppName, type ProcessContext, type ProcessParts } from "./run-process.js";
