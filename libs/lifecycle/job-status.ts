/** Job states of SPEC §3. Stored as the Postgres enum `job_status` with the same labels. */
export const JOB_STATUSES = ["PENDING", "ASSIGNED", "RUNNING", "DONE", "FAILED", "DEAD_LETTERED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** States a job never leaves on its own (only RetryJob moves DEAD_LETTERED back). */
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["DONE", "DEAD_LETTERED"]);

export function isFinalStatus(status: JobStatus): boolean {
  return FINAL_STATUSES.has(status);
}
