import type { Component } from "../runtime/component.js";

/** Why a term ended for this node. */
export type DemotionReason =
  /** `stop()` was called; the lock was released. */
  | "stopped"
  /** No renewal succeeded within `lease - safetyMargin` (a paused process, a slow or unreachable lock store). */
  | "lease-expired"
  /** The lock store answered that the lock is no longer ours (expired and taken, deleted, overwritten). */
  | "lock-lost"
  /** The session holding the lock failed (Postgres advisory lock: the lock went with it). */
  | "connection-lost";

/** What a duty carries into its writes: the term it acts for. Plain data, safe to pass around. */
export interface FenceToken {
  /** Election name (one leader per name), e.g. `scheduler`. */
  readonly name: string;
  readonly term: bigint;
  readonly nodeId: string;
}

/** A fence for one term, from `LeaderElector.fence()`. */
export interface Fence extends FenceToken {
  /** Aborted when this term ends here (demotion or stop); pass it to long operations. */
  readonly signal: AbortSignal;
  /** True while this node still leads in this term (checks the lease deadline, like `isLeader()`). */
  stillLeader(): boolean;
}

/** For a metrics gauge: poll it, or update on the elected/demoted callbacks. */
export interface LeaderStatus {
  readonly leader: boolean;
  readonly term: bigint | undefined;
}

export interface Demotion {
  readonly term: bigint;
  readonly reason: DemotionReason;
}

/**
 * One leader per election name across the cluster (SPEC §7), with a fencing token (the term)
 * that increases with every new term. `start()` resolves after the first acquisition attempt;
 * `stop()` ends the term (demoted with reason `stopped`), releases the lock and closes what the
 * elector opened. Callbacks run synchronously; an exception in one is logged and ignored.
 */
export interface LeaderElector extends Component {
  readonly nodeId: string;
  /** Election name; also the row name of the published term in `jq_leader`. */
  readonly electionName: string;
  /** True only while the lease is held and cannot have passed without a renewal. */
  isLeader(): boolean;
  /** The term this node leads in, if it leads. */
  currentTerm(): bigint | undefined;
  /** A fence for the current term, or undefined when not leading. */
  fence(): Fence | undefined;
  status(): LeaderStatus;
  /** Returns an unsubscribe function. */
  onElected(listener: (term: bigint) => void): () => void;
  onDemoted(listener: (demotion: Demotion) => void): () => void;
}
