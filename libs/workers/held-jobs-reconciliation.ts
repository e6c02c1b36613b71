/** A delivery: a job and the attempt that was delivered (the fencing token). */
export interface DeliveryRef {
  readonly jobId: string;
  readonly attempt: number;
}

/** A delivery the database says a worker holds. */
export interface HeldDelivery extends DeliveryRef {
  readonly status: "ASSIGNED" | "RUNNING";
}

export interface HeldJobsView {
  /** What the database says the worker holds (ASSIGNED or RUNNING for it). */
  readonly held: readonly HeldDelivery[];
  /** What the worker's heartbeat lists: deliveries it runs or has yet to run, results not acked. */
  readonly reported: readonly DeliveryRef[];
  /** Results of the worker this replica is still recording, and deliveries it is still marking. */
  readonly inFlight: readonly DeliveryRef[];
  /** What the worker's previous reconciled heartbeat found missing. */
  readonly previouslyAbsent: readonly DeliveryRef[];
}

export interface Reconciliation {
  /** Missing from this heartbeat and the one before, with nothing in flight: hand these back. */
  readonly handBack: HeldDelivery[];
  /** Missing from this heartbeat: remembered for the next one. */
  readonly absent: DeliveryRef[];
}

const key = (d: DeliveryRef) => `${d.jobId}/${d.attempt}`;

/**
 * The heartbeat reconciliation of issue 13 item 8 (pure). A delivery the database gives a worker
 * that the worker does not list may still be on its way: written to the stream after the worker
 * composed its heartbeat, or its result sent and not yet recorded. So one absence only marks it;
 * a delivery is handed back when it is absent from two consecutive reconciled heartbeats and no
 * result or delivery mark of it is in flight on this replica. The attempt is part of the key: a
 * later attempt of the same job starts with a clean record.
 */
export function reconcileHeldJobs(view: HeldJobsView): Reconciliation {
  const present = new Set([...view.reported, ...view.inFlight].map(key));
  const before = new Set(view.previouslyAbsent.map(key));
  const missing = view.held.filter((d) => !present.has(key(d)));
  return {
    handBack: missing.filter((d) => before.has(key(d))),
    absent: missing.map((d) => ({ jobId: d.jobId, attempt: d.attempt })),
  };
}

/** Whether two absent lists hold the same deliveries (nothing to write when they do). */
export function sameDeliveries(a: readonly DeliveryRef[], b: readonly DeliveryRef[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(key));
  return b.every((d) => keys.has(key(d)));
}
