/**
 * libs/leader — one leader per election name across the cluster, with fencing (SPEC §7, §10).
 *
 * Owns: the Redis lock keys `<prefix>{<name>}` and `<prefix>{<name>}:term`, the advisory lock of
 * the Postgres fallback, and its own two Postgres objects, the `jq_leader` table (published terms)
 * and the `jq_leader_term` sequence, created idempotently at start. Knows nothing about duties:
 * the scheduler asks `isLeader()`/`fence()` and checks its writes with `withFencedTransaction`.
 * Registers no metrics; callers poll `status()` or use the callbacks. Design and guarantees:
 * docs/leader-election.md.
 */
export type { Demotion, DemotionReason, Fence, FenceToken, LeaderElector, LeaderStatus } from "./leader-elector.js";
export { leaseTiming, monotonicNow, type LeaseTiming, type LeaseTimingOptions, type MonotonicClock } from "./lease.js";
export { RedisLeaderElector, type RedisLeaderElectorOptions } from "./redis-elector.js";
export { PostgresLeaderElector, type PostgresLeaderElectorOptions } from "./postgres-elector.js";
export { createLeaderElector, type LeaderElectorOptions } from "./create-leader-elector.js";
export {
  assertTermCurrent,
  publishedLeaderTerm,
  StaleLeader,
  withFencedTransaction,
  type FencedTransactionOptions,
} from "./leader-terms.js";
