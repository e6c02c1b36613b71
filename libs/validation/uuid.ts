import { validate as isUuid } from "uuid";
import { InvalidArgument } from "../errors/index.js";

/** A job or worker id from a request: must be a UUID (any version), normalised to lower case. */
export function validateUuid(value: string, field: string): string {
  if (value.length === 0) throw new InvalidArgument(field, "is required");
  if (!isUuid(value)) throw new InvalidArgument(field, `must be a UUID, got ${JSON.stringify(value.slice(0, 64))}`);
  return value.toLowerCase();
}
