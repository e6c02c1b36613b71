import { InvalidArgument } from "../errors/index.js";

/** SPEC §2: queue names are 1–128 characters of letters, digits, dot, underscore and dash. */
export const QUEUE_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,128}$/;

export function validateQueueName(name: string, field = "queue"): string {
  if (name.length === 0) throw new InvalidArgument(field, "is required");
  if (!QUEUE_NAME_PATTERN.test(name)) {
    throw new InvalidArgument(field, `must match ${QUEUE_NAME_PATTERN.source} (got ${JSON.stringify(name.slice(0, 140))})`);
  }
  return name;
}
