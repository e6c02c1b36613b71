import { status as Status } from "@grpc/grpc-js";
import { JqError, type ErrorKind } from "../../../libs/errors/index.js";
import { isConnectionError } from "../../../libs/postgres/db.js";

/** The one place where typed domain errors become gRPC status codes (SPEC §4). */
const CODE_OF_KIND: Readonly<Record<ErrorKind, Status>> = {
  invalid_argument: Status.INVALID_ARGUMENT,
  not_found: Status.NOT_FOUND,
  failed_precondition: Status.FAILED_PRECONDITION,
  already_exists: Status.ALREADY_EXISTS,
  unauthenticated: Status.UNAUTHENTICATED,
  permission_denied: Status.PERMISSION_DENIED,
  resource_exhausted: Status.RESOURCE_EXHAUSTED,
  unavailable: Status.UNAVAILABLE,
};

export interface RpcStatus {
  readonly code: Status;
  readonly details: string;
  /** Unexpected errors are logged with their stack; expected ones are the caller's business. */
  readonly unexpected: boolean;
}

export function toRpcStatus(err: unknown): RpcStatus {
  if (err instanceof JqError) return { code: CODE_OF_KIND[err.kind], details: err.message, unexpected: false };
  if (isConnectionError(err)) return { code: Status.UNAVAILABLE, details: "postgres is unavailable; retry", unexpected: false };
  // Statement timeouts and lock timeouts are load, not bad input: the caller may retry.
  const code = (err as { code?: string } | null)?.code;
  if (code === "57014" || code === "55P03" || code === "40001" || code === "40P01") {
    return { code: Status.UNAVAILABLE, details: "the database is busy; retry", unexpected: false };
  }
  return { code: Status.INTERNAL, details: "internal error", unexpected: true };
}
