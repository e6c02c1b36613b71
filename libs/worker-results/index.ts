/** libs/worker-results: the rules of a worker's reported results (the ReportResults stream's state machine and how a verdict is acknowledged or answered); apps/api/worker-service only binds them to gRPC. */
export * from "./result-verdicts.js";
export * from "./result-stream.js";
