import * as grpc from "@grpc/grpc-js";
import { Command } from "commander";
import { backoffDelayMs, type BackoffPolicy } from "../../../libs/backoff/index.js";
import type { JqClient } from "../../../libs/client/index.js";
import { JobStatus, type Job, type JobEvent, type WatchJobResponse } from "../../../libs/proto/index.js";
import { withClient } from "../context.js";
import { enumLabel } from "../enums.js";
import { EXIT } from "../exit-codes.js";
import { eventJson, eventLine, jobJson } from "../job-view.js";
import { printJson } from "../output.js";

/** Reconnects allowed in a row after UNAVAILABLE before giving up. */
const MAX_RECONNECTS = 5;
/** 400 ms before the first reconnect (reconnects counts from 1), doubling; MAX_RECONNECTS bounds it. */
const WATCH_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 200 * 2 ** MAX_RECONNECTS, jitter: "none" };

export function watchCommand(): Command {
  return new Command("watch")
    .description("follow a job's events until it ends (exit 0 when DONE, 8 when dead-lettered)")
    .argument("<job-id>")
    .action(async (jobId: string, _flags: object, cmd: Command) =>
      withClient(cmd, async ({ client, json }) => {
        const events: JobEvent[] = [];
        const job = await follow(client, jobId, (event) => {
          events.push(event);
          if (!json) process.stdout.write(`${eventLine(event)}\n`);
        });
        if (json) printJson({ job: job ? jobJson(job) : null, events: events.map(eventJson) });
        else if (job) process.stdout.write(`job ${jobId} ended: ${enumLabel(JobStatus, job.status)}\n`);
        if (job?.status !== JobStatus.DONE) process.exitCode = EXIT.jobFailed;
      }),
    );
}

/**
 * WatchJob until the server ends the stream (the job reached DONE or DEAD_LETTERED), resuming
 * after the last event seen when the stream breaks with UNAVAILABLE. Resolves with the job as the
 * last message carried it. No deadline: a job may run for hours.
 */
async function follow(client: JqClient, jobId: string, onEvent: (e: JobEvent) => void): Promise<Job | undefined> {
  let afterEventId = "0";
  let job: Job | undefined;
  for (let reconnects = 0; ; ) {
    try {
      await new Promise<void>((resolve, reject) => {
        const call = client.jobs.watchJob({ jobId, afterEventId }, client.metadata());
        call.on("data", (res: WatchJobResponse) => {
          reconnects = 0;
          if (res.job) job = res.job;
          if (res.event) {
            afterEventId = res.event.eventId;
            onEvent(res.event);
          }
        });
        call.on("error", reject);
        call.on("end", resolve);
      });
      return job;
    } catch (error) {
      if ((error as grpc.ServiceError).code !== grpc.status.UNAVAILABLE || ++reconnects > MAX_RECONNECTS) throw error;
      await new Promise((r) => setTimeout(r, backoffDelayMs(reconnects, WATCH_BACKOFF)));
    }
  }
}
