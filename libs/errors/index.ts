/**
 * The typed errors that domain and storage code throw. Nothing below the transport edge knows about
 * gRPC status codes: the edge maps each `kind` to one code (SPEC §4) in a single place.
 */
export type ErrorKind =
  | "invalid_argument"
  | "not_found"
  | "failed_precondition"
  | "already_exists"
  | "unauthenticated"
  | "permission_denied"
  | "resource_exhausted"
  | "unavailable";

export abstract class JqError extends Error {
  abstract readonly kind: ErrorKind;
}

/** Malformed input. `field` names the offending request field, e.g. `queue` or `jobs[3].payload`. */
export class InvalidArgument extends JqError {
  readonly kind = "invalid_argument";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "InvalidArgument";
  }
}

/** Input within format but over a configured size limit. */
export class LimitExceeded extends JqError {
  readonly kind = "resource_exhausted";
  constructor(
    readonly field: string,
    readonly limit: number,
    readonly actual: number,
    unit: string,
  ) {
    super(`${field}: ${actual} ${unit} exceeds the limit of ${limit} ${unit}`);
    this.name = "LimitExceeded";
  }
}

export class NotFound extends JqError {
  readonly kind = "not_found";
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${JSON.stringify(id)} not found`);
    this.name = "NotFound";
  }
}

export class AlreadyExists extends JqError {
  readonly kind = "already_exists";
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${JSON.stringify(id)} already exists`);
    this.name = "AlreadyExists";
  }
}

/** The entity exists but is in the wrong state for the operation. */
export class FailedPrecondition extends JqError {
  readonly kind = "failed_precondition";
  constructor(message: string) {
    super(message);
    this.name = "FailedPrecondition";
  }
}

/** A dependency (Postgres, Redis, Kafka) does not answer; the caller may retry. */
export class DependencyUnavailable extends JqError {
  readonly kind = "unavailable";
  constructor(
    readonly dependency: string,
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable`, { cause });
    this.name = "DependencyUnavailable";
  }
}
