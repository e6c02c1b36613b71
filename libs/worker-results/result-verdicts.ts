import type { FinishVerdict } from "../attempts/index.js";
import { FailedPrecondition, JqError, NotFound } from "../errors/index.js";
import type { JobStatus } from "../lifecycle/index.js";

/** How one result of a ReportResults stream is acknowledged (SPEC §5), in domain terms. */
export type ResultAck =
  | { readonly sequence: string; readonly code: "ACCEPTED"; readonly message: ""; readonly jobStatus: JobStatus }
  | { readonly sequence: string; readonly code: "STALE" | "NOT_FOUND" | "INVALID"; readonly message: string; readonly jobStatus?: undefined };

/** The ack of a recorded (or refused-as-stale) result. */
export function ackOfVerdict(sequence: string, v: FinishVerdict): ResultAck {
  switch (v.code) {
    case "accepted":
      return { sequence, code: "ACCEPTED", message: "", jobStatus: v.status };
    case "stale":
      return { sequence, code: "STALE", message: v.detail };
    case "not_found":
      return { sequence, code: "NOT_FOUND", message: "no such job" };
  }
}

/**
 * Whether `err` refuses only the result that caused it (a bad value, a value over a limit): the
 * stream acks that result INVALID and goes on. Any other error (the database down, a wrong worker
 * secret, a bug) ends the stream, so the worker resends what is unacknowledged on a new one.
 */
export function refusesOnlyItsResult(err: unknown): err is JqError {
  return err instanceof JqError && (err.kind === "invalid_argument" || err.kind === "resource_exhausted");
}

/** The unary ReportResult's answer: the job's new status, or the typed error of a refused result. */
export function statusOfVerdict(v: FinishVerdict, jobId: string): JobStatus {
  if (v.code === "accepted") return v.status;
  if (v.code === "not_found") throw new NotFound("job", jobId);
  throw new FailedPrecondition(`stale result: ${v.detail}; nothing changed`);
}
