import { randomBytes } from "node:crypto";

/**
 * `jq_t_<base>_<8 hex>`: a name no other test file (or earlier run against the same server) uses.
 * Lower case, digits and underscores only, so it is a valid Postgres identifier, Redis key part
 * and Kafka topic alike; the `jq_t_` prefix marks test debris left on a shared server.
 */
export function uniqueTestName(base?: string): string {
  const suffix = randomBytes(4).toString("hex");
  return base === undefined ? `jq_t_${suffix}` : `jq_t_${base.toLowerCase().replace(/[^a-z0-9]+/g, "_")}_${suffix}`;
}
