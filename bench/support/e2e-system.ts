import type { ApiMetricsScrape } from "./api-metrics.js";
import type { WorkerCounts } from "./e2e-protocol.js";
import type { WorkerFleet } from "./e2e-workers.js";

// What bench/e2e.ts needs from each queue it compares (jq in e2e-jq.ts, pg-boss in
// e2e-pg-boss.ts): submitting, knowing when every job has run, and counting what happened.

export type SystemName = "jq" | "pg-boss";

/** A process whose CPU a phase reports, besides the bench and Postgres. */
export interface MeasuredProcess {
  /** `api#1`, `worker#2`, … */
  readonly label: string;
  readonly pid: number;
}

/** A server's /metrics, scraped at a phase's start and end. */
export interface ServerScrape {
  readonly label: string;
  readonly metrics: ApiMetricsScrape;
}

/** Every submitted job ran to completion exactly once: what the tables and the workers say. */
export interface Verification {
  readonly submitted: number;
  /** Jobs in the system's table for the bench's queue. */
  readonly stored: number;
  /** Of those, completed (jq: DONE; pg-boss: completed). */
  readonly completed: number;
  /** Jobs that needed more than one attempt (none expected: the handler never fails). */
  readonly retried: number;
  /** Attempts the tables record (one per job without retries). */
  readonly attempts: number;
  /** Handler invocations the workers counted. */
  readonly handlerStarts: number;
  /** A reason the counts do not add up, or undefined when they do. */
  readonly problem: string | undefined;
}

export interface SystemUnderTest {
  readonly name: SystemName;
  /** The system's own database on the bench's Postgres. */
  readonly databaseName: string;
  readonly servers: readonly MeasuredProcess[];
  readonly workers: WorkerFleet;
  readonly workerProcesses: readonly MeasuredProcess[];
  /** application_name of the system's Postgres connections. */
  readonly applicationNames: readonly string[];
  /** Submits one job; `submittedAtMs` (epochMs) goes with it so the worker can time its start. Returns its id. */
  submitOne(submittedAtMs?: number): Promise<string>;
  /** Submits `batchSize` jobs in one call. */
  submitBatch(): Promise<void>;
  readonly batchSize: number;
  /** Whether any job of the bench's queue has yet to complete. */
  hasUnfinishedJobs(): Promise<boolean>;
  /** When the last job completed, by the database's clock (epoch ms). */
  lastCompletionMs(): Promise<number>;
  /** Scrapes every server's /metrics (none for pg-boss); a scrape resets the event-loop figures. */
  scrapeServers(): Promise<ServerScrape[]>;
  /** Reads the tables and compares them with what was submitted and what the workers ran. */
  verify(submitted: number, workerCounts: readonly WorkerCounts[]): Promise<Verification>;
  /** Stops the workers (gracefully) and the servers; returns the workers' final counts. Safe to call twice. */
  stop(): Promise<readonly WorkerCounts[]>;
}

/** The problem with a system's counts, or undefined when every job completed exactly once. */
export function countsProblem(v: Omit<Verification, "problem">): string | undefined {
  if (v.stored !== v.submitted) return `${v.stored} jobs stored, ${v.submitted} submitted`;
  if (v.completed !== v.submitted) return `${v.completed} of ${v.submitted} jobs completed`;
  if (v.handlerStarts !== v.attempts) return `the workers started ${v.handlerStarts} handlers for ${v.attempts} recorded attempts`;
  return undefined;
}
