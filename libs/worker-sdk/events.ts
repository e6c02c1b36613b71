import { ResultAckCode, type JobResult, type JobStatus } from "../proto/index.js";

/** How a delivery ended, from this worker's point of view. */
export type JobOutcome =
  /** A success result was ACCEPTED. */
  | "succeeded"
  /** A failure result was ACCEPTED (the job retries or is dead-lettered, see jobStatus). */
  | "failed"
  /** The result was refused as STALE or NOT_FOUND: nothing was recorded. */
  | "stale"
  /** The result was refused as INVALID (or with an ack code this SDK does not know). */
  | "invalid"
  /** The delivery was voided and its result not sent: server cancellation, worker lost, close timeout. */
  | "cancelled";

export interface JobDoneEvent {
  readonly jobId: string;
  readonly attempt: number;
  readonly outcome: JobOutcome;
  /** The acknowledgement's code (absent for "cancelled"). */
  readonly ackCode?: ResultAckCode;
  /** ACCEPTED only: the job's state after the report (DONE, PENDING or DEAD_LETTERED). */
  readonly jobStatus?: JobStatus;
  /** The ack's detail, or why the delivery was voided. */
  readonly message?: string;
}

export interface RegisteredEvent {
  readonly workerId: string;
  /** False for the first registration, true after the server declared the worker lost. */
  readonly reregistration: boolean;
  readonly unknownQueues: readonly string[];
}

export interface ReconnectEvent {
  /** Reconnections so far, this one included. */
  readonly reconnects: number;
  /** Why the previous streams were lost. */
  readonly cause: unknown;
}

/** Counters for dashboards and tests. */
export interface WorkerStats {
  /** Assignments received (repeats of a held delivery are not counted). */
  readonly received: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly stale: number;
  readonly invalid: number;
  readonly cancelled: number;
  /** Times both streams were opened again after a loss. */
  readonly reconnects: number;
  /** RegisterWorker calls that succeeded (1 + re-registrations). */
  readonly registrations: number;
  /** Handlers running now (including aborted ones that have not returned yet). */
  readonly inFlight: number;
  /** Deliveries held: received and not yet acknowledged or voided (what heartbeats report). */
  readonly held: number;
  /** Of those, results sent or waiting to be sent, without an ack yet. */
  readonly unacked: number;
}

/**
 * Events of a Worker. `received = succeeded + failed + stale + invalid + cancelled + held` at all
 * times, so a test can wait for `held === 0` and then check where every delivery went.
 */
export type WorkerEvents = {
  /** A delivery ended (acknowledged, or voided). */
  "job:done": [JobDoneEvent];
  /** Something needs attention (INVALID ack, failed deregistration). Only emitted when listened to. */
  error: [Error];
  /** Both streams are open again after a loss. */
  reconnect: [ReconnectEvent];
  /** RegisterWorker succeeded (at start, and again after the worker was declared lost). */
  registered: [RegisteredEvent];
  /** A drain (DrainWorker) completed: jobs finished, worker deregistered, everything closed. */
  drain: [];
};

/**
 * What an acknowledgement means for a delivery: ACCEPTED records the outcome it carried; STALE
 * and NOT_FOUND recorded nothing; INVALID, UNSPECIFIED and codes of a newer server count as
 * invalid (the contract says to treat an unknown code as INVALID).
 */
export function outcomeOfAck(result: JobResult, code: ResultAckCode): Exclude<JobOutcome, "cancelled"> {
  switch (code) {
    case ResultAckCode.ACCEPTED:
      return result.outcome?.$case === "success" ? "succeeded" : "failed";
    case ResultAckCode.STALE:
    case ResultAckCode.NOT_FOUND:
      return "stale";
    default:
      return "invalid";
  }
}
