import { v7 as uuidv7, validate as isUuid } from "uuid";
import type { FinishRequest } from "../../../libs/attempts/index.js";
import type { Config } from "../../../libs/config/index.js";
import { InvalidArgument, LimitExceeded } from "../../../libs/errors/index.js";
import type { JobResult, RegisterWorkerRequest } from "../../../libs/proto/index.js";
import type { Registration } from "../../../libs/workers/index.js";
import { validateAttempt, validateMetadata, validatePayload, validateQueueName, validateUuid } from "../../../libs/validation/index.js";

export const MAX_WORKER_CONCURRENCY = 1000;
export const MAX_WORKER_QUEUES = 100;
export const MAX_FAILURE_MESSAGE = 4096;

/** RegisterWorkerRequest → Registration; an empty or non-UUID id gets a fresh one (SPEC §4). */
export function toRegistration(req: RegisterWorkerRequest, limits: Config["limits"]): Registration {
  if (req.queues.length === 0) throw new InvalidArgument("queues", "must name at least one queue");
  if (req.queues.length > MAX_WORKER_QUEUES) throw new LimitExceeded("queues", MAX_WORKER_QUEUES, req.queues.length, "queues");
  const queues = req.queues.map((q, i) => validateQueueName(q, `queues[${i}]`));
  const dup = queues.find((q, i) => queues.indexOf(q) !== i);
  if (dup !== undefined) throw new InvalidArgument("queues", `names ${dup} twice`);
  if (!Number.isInteger(req.concurrency) || req.concurrency < 1 || req.concurrency > MAX_WORKER_CONCURRENCY) {
    throw new InvalidArgument("concurrency", `must be between 1 and ${MAX_WORKER_CONCURRENCY}, got ${req.concurrency}`);
  }
  if (req.hostname.length > 255) throw new LimitExceeded("hostname", 255, req.hostname.length, "characters");
  if (req.sdkVersion.length > 64) throw new LimitExceeded("sdk_version", 64, req.sdkVersion.length, "characters");
  return {
    workerId: isUuid(req.workerId) ? req.workerId.toLowerCase() : uuidv7(),
    hostname: req.hostname,
    sdkVersion: req.sdkVersion,
    queues,
    concurrency: req.concurrency,
    labels: validateMetadata(req.labels, limits, "labels"),
  };
}

/** A reported result → FinishRequest, refusing malformed input with the field named. */
export function toFinishRequest(workerId: string, result: JobResult | undefined, limits: Config["limits"], prefix = "result."): FinishRequest {
  if (!result) throw new InvalidArgument(prefix.slice(0, -1), "is required");
  const jobId = validateUuid(result.jobId, `${prefix}job_id`);
  const attempt = validateAttempt(result.attempt, `${prefix}attempt`);
  const o = result.outcome;
  if (!o) throw new InvalidArgument(`${prefix}outcome`, "must be success or failure");
  if (o.$case === "success") {
    const bytes = validatePayload(o.value.result, limits, `${prefix}success.result`);
    return { jobId, attempt, workerId, outcome: { kind: "success", result: Buffer.from(bytes) } };
  }
  return {
    jobId,
    attempt,
    workerId,
    outcome: {
      kind: "failure",
      message: o.value.message.slice(0, MAX_FAILURE_MESSAGE),
      retryable: o.value.retryable ?? true,
      reason: "FAILED",
    },
  };
}

export function validateWorkerId(id: string): string {
  return validateUuid(id, "worker_id");
}

