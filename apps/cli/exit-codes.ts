import * as grpc from "@grpc/grpc-js";

/**
 * jqctl's exit codes, one per class of failure, so scripts can branch on them (docs/cli.md).
 * A gRPC error maps by its status code; errors found before any call (bad flags, unreadable
 * files) are usage errors.
 */
export const EXIT = {
  ok: 0,
  /** Anything not classed below: INTERNAL, UNKNOWN, DATA_LOSS, an unexpected local error. */
  failure: 1,
  /** Bad command line or request: unknown flag, INVALID_ARGUMENT, OUT_OF_RANGE, RESOURCE_EXHAUSTED (a limit). */
  usage: 2,
  /** NOT_FOUND: the queue, job, worker or schedule does not exist. */
  notFound: 3,
  /** FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED: the object is not in a state that allows it. */
  precondition: 4,
  /** UNAUTHENTICATED, PERMISSION_DENIED: no key, a wrong key, or a role that may not do it. */
  auth: 5,
  /** UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED: the server could not be reached or answer in time. */
  unavailable: 6,
  /** `job watch`: the job ended without success (dead-lettered or cancelled). */
  jobFailed: 8,
  /** Interrupted by Ctrl-C (SIGINT) after finishing the batch under way. */
  interrupted: 130,
} as const;

const BY_CODE: ReadonlyMap<grpc.status, number> = new Map([
  [grpc.status.INVALID_ARGUMENT, EXIT.usage],
  [grpc.status.OUT_OF_RANGE, EXIT.usage],
  [grpc.status.RESOURCE_EXHAUSTED, EXIT.usage],
  [grpc.status.NOT_FOUND, EXIT.notFound],
  [grpc.status.FAILED_PRECONDITION, EXIT.precondition],
  [grpc.status.ALREADY_EXISTS, EXIT.precondition],
  [grpc.status.ABORTED, EXIT.precondition],
  [grpc.status.UNAUTHENTICATED, EXIT.auth],
  [grpc.status.PERMISSION_DENIED, EXIT.auth],
  [grpc.status.UNAVAILABLE, EXIT.unavailable],
  [grpc.status.DEADLINE_EXCEEDED, EXIT.unavailable],
  [grpc.status.CANCELLED, EXIT.unavailable],
]);

/** A failure the CLI itself detected, with the exit code it should end with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
  }
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return typeof error === "object" && error !== null && "code" in error && "details" in error && typeof (error as grpc.ServiceError).code === "number";
}

/** The one line printed on stderr for `error`, and the exit code. */
export function describeError(error: unknown): { line: string; exitCode: number } {
  if (error instanceof CliError) return { line: `jqctl: ${error.message}`, exitCode: error.exitCode };
  if (isServiceError(error)) {
    const name = grpc.status[error.code] ?? String(error.code);
    const details = (error.details || error.message).split("\n")[0];
    return { line: `jqctl: ${name}: ${details}`, exitCode: BY_CODE.get(error.code) ?? EXIT.failure };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: `jqctl: ${message.split("\n")[0]}`, exitCode: EXIT.failure };
}
