import { InvalidArgument, LimitExceeded } from "../errors/index.js";

/** Size limits on what a client may send (SPEC §9); values come from the validated config. */
export interface InputLimits {
  readonly maxPayloadBytes: number;
  readonly maxMetadataBytes: number;
  readonly maxMetadataEntries: number;
  readonly maxIdempotencyKeyLength: number;
}

/** Job priority is stored as SMALLINT; higher runs first. */
export const PRIORITY_MIN = -32768;
export const PRIORITY_MAX = 32767;

export function validatePayload(payload: Uint8Array, limits: InputLimits, field = "payload"): Uint8Array {
  if (payload.byteLength > limits.maxPayloadBytes) {
    throw new LimitExceeded(field, limits.maxPayloadBytes, payload.byteLength, "bytes");
  }
  return payload;
}

export function validatePriority(priority: number, field = "priority"): number {
  if (!Number.isInteger(priority) || priority < PRIORITY_MIN || priority > PRIORITY_MAX) {
    throw new InvalidArgument(field, `must be an integer in [${PRIORITY_MIN}, ${PRIORITY_MAX}], got ${priority}`);
  }
  return priority;
}

/**
 * Metadata is a flat string map stored as JSONB. Keys must be non-empty printable text; the total
 * UTF-8 size of keys and values is bounded so one job cannot bloat every listing.
 */
export function validateMetadata(
  metadata: Readonly<Record<string, string>>,
  limits: InputLimits,
  field = "metadata",
): Record<string, string> {
  const entries = Object.entries(metadata);
  if (entries.length > limits.maxMetadataEntries) {
    throw new LimitExceeded(field, limits.maxMetadataEntries, entries.length, "entries");
  }
  let bytes = 0;
  for (const [k, v] of entries) {
    if (k.length === 0) throw new InvalidArgument(field, "keys must not be empty");
    if (/[\u0000-\u001f]/.test(k)) throw new InvalidArgument(`${field}[${JSON.stringify(k)}]`, "key contains control characters");
    if (v.includes("\u0000")) throw new InvalidArgument(`${field}[${JSON.stringify(k)}]`, "value contains a NUL character");
    bytes += Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8");
  }
  if (bytes > limits.maxMetadataBytes) throw new LimitExceeded(field, limits.maxMetadataBytes, bytes, "bytes");
  return Object.fromEntries(entries);
}

export function validateIdempotencyKey(key: string, limits: InputLimits, field = "idempotency_key"): string | null {
  if (key.length === 0) return null;
  if (key.length > limits.maxIdempotencyKeyLength) {
    throw new LimitExceeded(field, limits.maxIdempotencyKeyLength, key.length, "characters");
  }
  if (key.includes("\u0000")) throw new InvalidArgument(field, "contains a NUL character");
  return key;
}

/** The largest value of a Postgres `integer` column; a wire uint32 above it cannot be stored or matched. */
export const MAX_INT4 = 2_147_483_647;

/**
 * A delivery's attempt number as a worker quotes it (a fencing token, 1 or more). Attempts are
 * Postgres integers, so a uint32 above MAX_INT4 names no delivery; refused here, it would reach
 * the result statement and fail there as an internal error.
 */
export function validateAttempt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_INT4) {
    throw new InvalidArgument(field, `must be the delivery's attempt (1 to ${MAX_INT4}), got ${value}`);
  }
  return value;
}

/** A non-negative integer count such as max_retries. */
export function validateNonNegativeInt(value: number, field: string, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidArgument(field, `must be an integer in [0, ${max}], got ${value}`);
  }
  return value;
}
