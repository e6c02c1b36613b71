export * from "./result-verdicts.js";
export * from "./result-stream.js";
