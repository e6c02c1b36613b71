import { FailedPrecondition, NotFound } from "../errors/index.js";
import { sourcesOf } from "../lifecycle/index.js";
import type { Db } from "../postgres/db.js";
import { notifyWorkerControl } from "../notifications/channels.js";
import { deadLetterJobs, retryJobsManually } from "./dead-letters.js";
import { getJob } from "./read-jobs.js";
import type { TransitionedJob } from "./transition-jobs.js";

/**
 * CancelJob (SPEC §3): PENDING, ASSIGNED or RUNNING → DEAD_LETTERED, reason CANCELLED, recorded
 * at once. The worker id stays on the row so the worker holding a RUNNING job can be told to
 * abort; its later report is refused because the job is no longer RUNNING.
 */
export async function cancelJob(db: Db, jobId: string, message: string | null): Promise<TransitionedJob> {
  const [job] = await deadLetterJobs(db, [jobId], "CANCELLED", message ?? "cancelled");
  if (!job) return refuse(db, jobId, "cancelled", sourcesOf("DEAD_LETTERED", "CANCELLED"));
  if ((job.fromStatus === "RUNNING" || job.fromStatus === "ASSIGNED") && job.workerId !== null) {
    // The holder learns at once through its stream; if this NOTIFY is lost, its next heartbeat
    // reply carries the cancellation anyway.
    await notifyWorkerControl(db, {
      kind: "cancel",
      worker: job.workerId,
      job: job.id,
      attempt: job.attempt,
      reason: "CANCELLED",
      message: message ?? "cancelled",
    });
  }
  return job;
}

/** RetryJob: FAILED or DEAD_LETTERED → PENDING, retry count reset, due at once. */
export async function retryJob(db: Db, jobId: string): Promise<TransitionedJob> {
  const [job] = await retryJobsManually(db, [jobId]);
  if (job) return job;
  return refuse(db, jobId, "retried", sourcesOf("PENDING", "RETRIED_MANUALLY"));
}

async function refuse(db: Db, jobId: string, verb: string, allowed: readonly string[]): Promise<never> {
  const current = await getJob(db, jobId, false);
  if (!current) throw new NotFound("job", jobId);
  throw new FailedPrecondition(`job ${jobId} is ${current.status}; only ${allowed.join(", ")} jobs can be ${verb}`);
}
