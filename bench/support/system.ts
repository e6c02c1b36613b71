import type { WorkerFleet } from "./workers.js";

// What bench/e2e.ts needs from each queue it compares (jq.ts, pg-boss.ts, bullmq.ts): submitting,
// knowing when every job has run, and counting what happened.

export type SystemName = "jq" | "pg-boss" | "bullmq";
export const SYSTEM_NAMES: readonly SystemName[] = ["jq", "pg-boss", "bullmq"];

/** A process whose CPU counts as the system's (besides the bench process, its producer). */
export interface MeasuredProcess {
  readonly label: string;
  readonly pid: number;
}

export interface Verification {
  readonly submitted: number;
  /** Jobs the system holds for the bench's queue, and of those completed. */
  readonly stored: number;
  readonly completed: number;
  /** Handler invocations the workers counted (a job delivered twice counts twice). */
  readonly handlerStarts: number;
  /** Why the counts do not add up to "every job completed exactly once", or undefined. */
  readonly problem: string | undefined;
}

export interface SystemUnderTest {
  readonly name: SystemName;
  /** Its database on the bench's Postgres; undefined for a system that keeps its jobs elsewhere. */
  readonly databaseName: string | undefined;
  /** Servers (apps/api, redis-server) and worker processes. */
  readonly processes: readonly MeasuredProcess[];
  readonly workers: WorkerFleet;
  readonly batchSize: number;
  /** Transactions the bench itself has run in the system's database so far (its own reads), left out of the system's commits. */
  benchCommits(): number;
  /** Submits one job; `submittedAtMs` (epochMs) goes with it so the worker can time its start. Returns its id. */
  submitOne(submittedAtMs?: number): Promise<string>;
  /** Submits `batchSize` jobs in one call. */
  submitBatch(): Promise<void>;
  /** Whether every job submitted so far (`submitted` in all) has completed. */
  allCompleted(submitted: number): Promise<boolean>;
  /** When the last job completed, epoch ms (the store's clock, or the worker's for BullMQ). */
  lastCompletionMs(): Promise<number>;
  /**
   * Stops the workers gracefully, compares the store with what was submitted and what the workers
   * ran, and stops what else the system started, so that nothing of it runs during the next system.
   */
  finish(submitted: number): Promise<Verification>;
}

/** Every job stored and completed, and its handler started exactly once; `refused`: results the server refused. */
export function verification(counts: Omit<Verification, "problem">, refused = 0): Verification {
  const problem =
    counts.stored !== counts.submitted ? `${counts.stored} jobs stored, ${counts.submitted} submitted`
    : counts.completed !== counts.submitted ? `${counts.completed} of ${counts.submitted} jobs completed`
    : counts.handlerStarts !== counts.submitted ? `the workers started ${counts.handlerStarts} handlers for ${counts.submitted} jobs`
    : refused > 0 ? `${refused} results were refused or voided`
    : undefined;
  return { ...counts, problem };
}
