import type pg from "pg";
import { Coalescer } from "../batching/coalescer.js";
import { isConnectionError } from "../postgres/db.js";
import { cancelJob, retryJob } from "./job-commands.js";
import { getJob, listEventsOfJobs, listJobEvents, listJobs, type JobFilter } from "./read-jobs.js";
import { submitJobs, type HandOffRequest, type NewJob, type SubmittedJob } from "./submit-jobs.js";

/**
 * Local worker slots offered to a submit (apps/api's dispatcher): jobs that can start at once go
 * out ASSIGNED in the submit's own statement instead of waiting for a claim (docs/write-path.md).
 */
export interface SubmitHandOff {
  /** Reserves slots for some of these jobs; undefined when none can take any. */
  offer(jobs: readonly NewJob[]): HandOffOffer | undefined;
}

/** Reserved slots, released by `settle`: with the results once committed, undefined on failure. */
export interface HandOffOffer extends HandOffRequest {
  settle(results: readonly SubmittedJob[] | undefined): void;
}

/** Most jobs one group-committed insert carries. */
const MAX_JOBS_PER_INSERT = 2000;

/**
 * The submit window (JQ_SUBMIT_WINDOW_MS) is waited only while this replica's inserts take fewer
 * jobs than this: a trickle of lone submits then shares transactions, while calls that already
 * arrive together (a closed loop, a burst) are not delayed (docs/write-path.md, "Group commit").
 */
const TRICKLE_BELOW_JOBS = 4;

/**
 * What JobService needs of storage, bound to the process's pool (apps/api holds no SQL). Submits
 * are group-committed (SPEC §5): concurrent calls on one replica share one multi-row insert
 * transaction, each caller getting its own result or its own error (an unknown queue in one call
 * fails that call only: a failed shared insert is retried call by call).
 */
export class JobStore {
  private readonly submits: Coalescer<readonly NewJob[], SubmittedJob[]>;

  constructor(
    private readonly db: pg.Pool,
    options: { readonly submitWindowMs: number; readonly maxInFlight?: number; readonly handOff?: SubmitHandOff },
  ) {
    this.submits = new Coalescer(
      async (calls) => {
        const jobs = calls.flat();
        const offer = options.handOff?.offer(jobs);
        let results: SubmittedJob[];
        try {
          results = await submitJobs(db, jobs, offer);
        } catch (err) {
          offer?.settle(undefined);
          throw err;
        }
        offer?.settle(results);
        let at = 0;
        return calls.map((jobs) => results.slice(at, (at += jobs.length)));
      },
      {
        maxBatch: MAX_JOBS_PER_INSERT,
        weight: (jobs) => jobs.length,
        maxInFlight: options.maxInFlight ?? 2,
        windowMs: options.submitWindowMs,
        windowBelow: TRICKLE_BELOW_JOBS,
        isolates: (err) => !isConnectionError(err),
      },
    );
  }

  /** Creates one call's jobs, in one transaction with whatever other calls share it. */
  submit(jobs: readonly NewJob[]): Promise<SubmittedJob[]> {
    return this.submits.add(jobs);
  }

  cancel(jobId: string, message: string | null) {
    return cancelJob(this.db, jobId, message);
  }

  retry(jobId: string) {
    return retryJob(this.db, jobId);
  }

  get(jobId: string, full: boolean) {
    return getJob(this.db, jobId, full);
  }

  list(filter: JobFilter, page: Parameters<typeof listJobs>[2]) {
    return listJobs(this.db, filter, page);
  }

  events(jobId: string, afterId: string, limit: number) {
    return listJobEvents(this.db, jobId, afterId, limit);
  }

  eventsOfJobs(cursors: Parameters<typeof listEventsOfJobs>[1], limit: number) {
    return listEventsOfJobs(this.db, cursors, limit);
  }

  /** Waits for submits in flight (shutdown). */
  drain(): Promise<void> {
    return this.submits.drain();
  }
}
