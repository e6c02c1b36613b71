/** A delivery: a job and the attempt that was delivered (the fencing token). */
export interface DeliveryRef {
  readonly jobId: string;
  readonly attempt: number;
}

/** A delivery the database says a worker holds. */
export interface HeldDelivery extends DeliveryRef {
  readonly status: "ASSIGNED" | "RUNNING";
}

/** A delivery found missing, and since when (ms, the database's clock). */
export interface AbsentDelivery extends DeliveryRef {
  readonly since: number;
}

export interface HeldJobsView {
  /** What the database says the worker holds (ASSIGNED or RUNNING for it). */
  readonly held: readonly HeldDelivery[];
  /** What the worker's heartbeat lists: deliveries it runs or has yet to run, results not acked. */
  readonly reported: readonly DeliveryRef[];
  /** Results of the worker this replica is still recording, and deliveries it is still marking. */
  readonly inFlight: readonly DeliveryRef[];
  /** What the worker's previous reconciled heartbeat found missing. */
  readonly previouslyAbsent: readonly AbsentDelivery[];
  /** Now, on the clock of `since`. */
  readonly now: number;
  /** How long a delivery must have been missing before it is handed back. */
  readonly graceMs: number;
}

export interface Reconciliation {
  /** Missing from this heartbeat and the one before, for the grace, with nothing in flight: hand these back. */
  readonly handBack: HeldDelivery[];
  /** Missing from this heartbeat: remembered for the next one, with the time of the first absence. */
  readonly absent: AbsentDelivery[];
}

const key = (d: DeliveryRef) => `${d.jobId}/${d.attempt}`;

/**
 * The heartbeat reconciliation of issue 13 item 8 (pure). A delivery the database gives a worker
 * that the worker does not list may still be on its way: written to the stream after the worker
 * composed its heartbeat (on a loaded machine that can take longer than a heartbeat interval), or
 * its result sent and not yet recorded. So an absence only marks it; a delivery is handed back
 * when it is absent from two consecutive reconciled heartbeats, has been missing for `graceMs`
 * (the heartbeat timeout: the patience jq has with a silent worker), and no result, delivery or
 * delivery mark of it is in flight on this replica. Listing it again clears the mark. The attempt
 * is part of the key: a later attempt of the same job starts with a clean record.
 */
export function reconcileHeldJobs(view: HeldJobsView): Reconciliation {
  const present = new Set([...view.reported, ...view.inFlight].map(key));
  const before = new Map(view.previouslyAbsent.map((d) => [key(d), d.since]));
  const missing = view.held.filter((d) => !present.has(key(d)));
  const since = (d: DeliveryRef) => before.get(key(d)) ?? view.now;
  return {
    handBack: missing.filter((d) => before.has(key(d)) && view.now - since(d) >= view.graceMs),
    absent: missing.map((d) => ({ jobId: d.jobId, attempt: d.attempt, since: since(d) })),
  };
}

/** Whether two absent lists hold the same deliveries (nothing to write when they do). */
export function sameDeliveries(a: readonly DeliveryRef[], b: readonly DeliveryRef[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(key));
  return b.every((d) => keys.has(key(d)));
}
