/**
 * The jq.v1 gRPC contract for the rest of the code: generated messages, enums, service
 * definitions (for `server.addService`) and client constructors, plus the descriptor set that
 * gRPC server reflection serves. Import from here, never from `./gen/…` directly, so the layout of
 * the generated code can change without touching callers. See README.md and docs/api.md.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { JobEventType } from "./gen/jq/v1/job.js";

export * from "./gen/jq/v1/job.js";
export * from "./gen/jq/v1/queue.js";
export * from "./gen/jq/v1/worker.js";
export * from "./gen/jq/v1/schedule.js";
export * from "./gen/jq/v1/cluster.js";
export * from "./gen/jq/v1/job_service.js";
export * from "./gen/jq/v1/worker_service.js";
export * from "./gen/jq/v1/admin_service.js";
export { Duration } from "./gen/google/protobuf/duration.js";
export * from "./worker-headers.js";

/** Fully qualified names of the services, as the gRPC health and reflection services want them. */
export const JQ_SERVICE_NAMES = ["jq.v1.JobService", "jq.v1.WorkerService", "jq.v1.AdminService"] as const;

/**
 * Path of the binary FileDescriptorSet (jq.v1 and its imports) written by
 * `scripts/proto/generate.mjs`. It sits next to the generated code; a compiled build
 * (`dist/libs/proto/index.js`) does not copy it, so the source tree's copy is used there.
 */
export const DESCRIPTOR_SET_PATH: string = (() => {
  const candidates = [
    new URL("./gen/jq.binpb", import.meta.url),
    new URL("../../../libs/proto/gen/jq.binpb", import.meta.url),
  ].map((url) => fileURLToPath(url));
  return candidates.find((path) => existsSync(path)) ?? (candidates[0] as string);
})();

/** The descriptor set's bytes, e.g. for server reflection (apps/api/reflection.ts). */
export function loadDescriptorSet(): Buffer {
  try {
    return readFileSync(DESCRIPTOR_SET_PATH);
  } catch (error) {
    throw new Error(`cannot read ${DESCRIPTOR_SET_PATH}; run \`npm run proto\` first`, { cause: error });
  }
}

const EVENT_HEADER_PREFIX = "job.";

/**
 * The Kafka `type` header of an event type (SPEC §6): `JobEventType.RETRY_SCHEDULED` →
 * `job.retry_scheduled`. The rule is part of the contract (see JobEventType in job.proto).
 */
export function jobEventTypeHeader(type: JobEventType): string {
  if (type === JobEventType.UNSPECIFIED || type === JobEventType.UNRECOGNIZED || JobEventType[type] === undefined) {
    throw new RangeError(`no Kafka type header for JobEventType ${type}`);
  }
  return `${EVENT_HEADER_PREFIX}${JobEventType[type].toLowerCase()}`;
}

/** The event type named by a Kafka `type` header, or undefined for a name this version does not know. */
export function jobEventTypeFromHeader(header: string): JobEventType | undefined {
  if (!header.startsWith(EVENT_HEADER_PREFIX)) return undefined;
  const name = header.slice(EVENT_HEADER_PREFIX.length);
  if (name !== name.toLowerCase() || name === "unspecified" || name === "unrecognized") return undefined;
  const value: unknown = (JobEventType as Record<string, unknown>)[name.toUpperCase()];
  return typeof value === "number" ? (value as JobEventType) : undefined;
}
