import type { JobAttemptRef, JobFailure, JobResult } from "../proto/index.js";
import { isNonRetryable } from "./errors.js";

/**
 * Turns what a handler returned or threw into the JobResult the server records (pure).
 * Success bytes: a Buffer or Uint8Array as is, a string as UTF-8, nothing as empty.
 * Failure: the error's message cut to the contract's 4096 characters, `retryable` absent (which
 * the server reads as true) unless the handler threw a NonRetryableError.
 */

/** What a handler may return. */
export type HandlerOutput = Uint8Array | string | null | undefined | void;

/** JobFailure.message limit (worker_service.proto); longer messages are cut, never refused. */
export const MAX_FAILURE_MESSAGE_CHARS = 4096;

export function successResult(ref: JobAttemptRef, output: unknown): JobResult {
  return { jobId: ref.jobId, attempt: ref.attempt, outcome: { $case: "success", value: { result: resultBytes(output) } } };
}

export function failureResult(ref: JobAttemptRef, error: unknown): JobResult {
  return { jobId: ref.jobId, attempt: ref.attempt, outcome: { $case: "failure", value: failureOf(error) } };
}

/** The result bytes of a handler's return value; throws a TypeError for anything else. */
export function resultBytes(output: unknown): Buffer {
  if (output === undefined || output === null) return Buffer.alloc(0);
  if (typeof output === "string") return Buffer.from(output, "utf8");
  if (Buffer.isBuffer(output)) return output;
  if (output instanceof Uint8Array) return Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  throw new TypeError(`the handler returned ${describe(output)}; return a Buffer, a Uint8Array, a string or nothing`);
}

export function failureOf(error: unknown): JobFailure {
  const failure: JobFailure = { message: truncate(messageOf(error), MAX_FAILURE_MESSAGE_CHARS) };
  if (isNonRetryable(error)) failure.retryable = false;
  return failure;
}

/**
 * Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair, so the result is
 * within the limit whether the server counts code units or code points.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  const splitsPair = last >= 0xd800 && last <= 0xdbff;
  return text.slice(0, splitsPair ? max - 1 : max);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return String(error);
  } catch {
    return "the handler threw a value that cannot be shown";
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object (${value?.constructor?.name ?? "null prototype"})` : `a ${typeof value}`;
}
