/**
 * @jq/sdk — jq's TypeScript client (JqClient) and worker SDK (Worker), as one installable package.
 * The code lives in libs/client and libs/worker-sdk of the jq repository (the servers' tests use it
 * from there); this file is the package's entry, and `npm pack` compiles those sources into it.
 * README.md beside this file shows how to use it.
 */
export * from "../../libs/client/index.js";
export * from "../../libs/worker-sdk/index.js";
/** The generated jq.v1 messages and enums (JobStatus, ResultAckCode, …), for typed requests. */
export * as proto from "../../libs/proto/index.js";
