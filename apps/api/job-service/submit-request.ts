import type { Config } from "../../../libs/config/index.js";
import { InvalidArgument } from "../../../libs/errors/index.js";
import type { NewJob } from "../../../libs/jobs/index.js";
import type { SubmitJobRequest } from "../../../libs/proto/index.js";
import {
  validateIdempotencyKey,
  validateMetadata,
  validateNonNegativeInt,
  validatePayload,
  validatePriority,
  validateQueueName,
} from "../../../libs/validation/index.js";
import { durationToMs, durationToWholeSeconds } from "../../../libs/wire/index.js";

/** Largest max_retries a job may ask for; far above any sane policy, and well inside int4. */
const MAX_RETRIES_LIMIT = 1_000_000;

/**
 * A SubmitJobRequest as a validated NewJob. `prefix` names the request inside a batch
 * (`jobs[3].`) so every error points at its field.
 */
export function toNewJob(req: SubmitJobRequest, limits: Config["limits"], prefix = ""): NewJob {
  const queue = validateQueueName(req.queue, `${prefix}queue`);
  const payload = validatePayload(req.payload, limits, `${prefix}payload`);
  const metadata = validateMetadata(req.metadata, limits, `${prefix}metadata`);
  const priority = validatePriority(req.priority, `${prefix}priority`);
  const idempotencyKey = validateIdempotencyKey(req.idempotencyKey, limits, `${prefix}idempotency_key`);
  const maxRetries =
    req.maxRetries === undefined ? null : validateNonNegativeInt(req.maxRetries, `${prefix}max_retries`, MAX_RETRIES_LIMIT);
  const timeoutSeconds = req.timeout === undefined ? null : durationToWholeSeconds(req.timeout, `${prefix}timeout`);

  let delayMs: number | null = null;
  let runAt: Date | null = null;
  if (req.start?.$case === "delay") {
    delayMs = Math.round(durationToMs(req.start.value, `${prefix}delay`));
    if (delayMs === 0) delayMs = null;
  } else if (req.start?.$case === "runAt") {
    runAt = req.start.value;
    if (Number.isNaN(runAt.getTime())) throw new InvalidArgument(`${prefix}run_at`, "is not a valid time");
  }
  return { queue, payload: Buffer.from(payload), metadata, priority, maxRetries, timeoutSeconds, delayMs, runAt, idempotencyKey };
}
