import { createHash } from "node:crypto";
import type { QueryConfig } from "pg";

/**
 * A statement of the hot path, sent by name (docs/write-path.md, "Planning"). node-postgres
 * prepares a named statement once per connection and then only binds and executes it, so Postgres
 * parses and analyses it once per connection instead of on every call, and after five executions
 * may keep one generic plan for it instead of planning each call (plan_cache_mode auto). The
 * claim and result statements are CTEs whose planning cost more than their execution at the batch
 * sizes workers produce.
 *
 * The name is derived from the text, so two statements never share a name and a changed
 * statement gets a new one. The text must be fixed (built once, at load).
 */
export function namedStatement(text: string): (values: unknown[]) => QueryConfig {
  const name = `jq_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
  return (values) => ({ name, text, values });
}
