/**
 * Errors a handler throws to shape its failure, and the reasons the SDK puts on a job's
 * AbortSignal (`signal.reason`) so a handler can tell why it was asked to stop.
 */

/**
 * A failure that another attempt will not fix (bad input, a permanent refusal): the job goes to
 * the dead letters at once instead of being retried. Any other thrown value is a retryable
 * failure. An error of another class with `retryable === false` counts the same.
 */
export class NonRetryableError extends Error {
  readonly retryable = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}

/** Why a running job's signal was aborted. */
export type AbortKind =
  /** The server cancelled the delivery (CancelJob, timeout, handed back); its result is not sent. */
  | "cancelled"
  /** The job's execution deadline passed; whatever the handler then returns is still reported. */
  | "deadline"
  /** The server declared this worker lost and handed the job back; its result is not sent. */
  | "worker-lost"
  /** `close()` gave up waiting (closeTimeoutMs); Deregister hands the job back. */
  | "closing";

/** The `signal.reason` of an aborted job. */
export class JobAbortedError extends Error {
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
    this.name = "JobAbortedError";
  }
}

/** True for an error the handler marked as not worth retrying. */
export function isNonRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return true;
  return typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === false;
}
