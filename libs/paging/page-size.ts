import { InvalidArgument, LimitExceeded } from "../errors/index.js";

export interface PageLimits {
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
}

/** A list request's page size: 0 means the default, negative is malformed, above the limit is over a size limit. */
export function resolvePageSize(requested: number, limits: PageLimits, field = "page_size"): number {
  if (!Number.isInteger(requested) || requested < 0) throw new InvalidArgument(field, `must be a non-negative integer, got ${requested}`);
  if (requested === 0) return limits.defaultPageSize;
  if (requested > limits.maxPageSize) throw new LimitExceeded(field, limits.maxPageSize, requested, "items");
  return requested;
}
