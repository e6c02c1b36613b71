import { z } from "zod";
import { InvalidArgument, LimitExceeded } from "../errors/index.js";
import { validateQueueName, validateUuid } from "../validation/index.js";

/**
 * The bodies of the dashboard's actions, checked field by field: unknown fields, wrong types and
 * malformed names or ids are INVALID_ARGUMENT naming the field, with the same rules (and words) as
 * the gRPC API (libs/validation).
 */

/** Most job ids one dead-letter action may name, as RequeueDeadLetters/PurgeDeadLetters allow. */
export const MAX_ACTION_JOB_IDS = 1000;
/** Longest cancel message, as CancelJob allows. */
export const MAX_CANCEL_MESSAGE = 1024;

const queueBody = z.object({ queue: z.string() }).strict();
const jobBody = z.object({ jobId: z.string() }).strict();
const cancelBody = z.object({ jobId: z.string(), message: z.string().optional() }).strict();
const workerBody = z.object({ workerId: z.string() }).strict();
const deadLetterBody = z.object({ queue: z.string(), jobIds: z.array(z.string()).optional(), all: z.boolean().optional() }).strict();

function parse<T>(schema: z.ZodType<T>, body: Record<string, unknown>): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "body";
  const message = issue.code === "unrecognized_keys" ? `has unknown field(s): ${issue.keys.join(", ")}` : issue.message;
  throw new InvalidArgument(issue.code === "unrecognized_keys" ? "body" : field, message);
}

export function queueRequest(body: Record<string, unknown>): { queue: string } {
  return { queue: validateQueueName(parse(queueBody, body).queue, "queue") };
}

export function jobRequest(body: Record<string, unknown>): { jobId: string } {
  return { jobId: validateUuid(parse(jobBody, body).jobId, "jobId") };
}

export function cancelRequest(body: Record<string, unknown>): { jobId: string; message: string | null } {
  const b = parse(cancelBody, body);
  const message = b.message ?? "";
  if (message.length > MAX_CANCEL_MESSAGE) throw new LimitExceeded("message", MAX_CANCEL_MESSAGE, message.length, "characters");
  return { jobId: validateUuid(b.jobId, "jobId"), message: message === "" ? null : message };
}

export function workerRequest(body: Record<string, unknown>): { workerId: string } {
  return { workerId: validateUuid(parse(workerBody, body).workerId, "workerId") };
}

/**
 * Which dead letters of one queue: the listed `jobIds`, or every one with `all: true`. Exactly one
 * of the two, so a bulk action is never the accident of a missing field.
 */
export function deadLetterRequest(body: Record<string, unknown>): { queue: string; jobIds: string[] } {
  const b = parse(deadLetterBody, body);
  const queue = validateQueueName(b.queue, "queue");
  const ids = b.jobIds ?? [];
  if (b.all === true && ids.length > 0) throw new InvalidArgument("all", "cannot be combined with jobIds; send one or the other");
  if (b.all !== true && ids.length === 0) throw new InvalidArgument("jobIds", "must name at least one job, or send all: true for every dead letter of the queue");
  if (ids.length > MAX_ACTION_JOB_IDS) throw new LimitExceeded("jobIds", MAX_ACTION_JOB_IDS, ids.length, "ids");
  return { queue, jobIds: ids.map((id, i) => validateUuid(id, `jobIds[${i}]`)) };
}
