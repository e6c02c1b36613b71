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

/**
 * `unnest($1::t1[], $2::t2[], …)` with every array read through an InitPlan, for a named
 * statement whose input is arrays. A custom plan would see how many rows the arrays hold and, for
 * a statement with a subquery per input row, cost less than the generic plan, which Postgres then
 * never keeps; through `(SELECT $n)` both estimate the same and the generic plan is kept.
 */
export function unnestParams(...types: readonly string[]): string {
  return `unnest(${types.map((t, i) => `(SELECT $${i + 1}::${t}[])`).join(", ")})`;
}
