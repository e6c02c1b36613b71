import { Command } from "commander";
import { GetJobLogsResponse, JobStatus, JobView, ListJobsResponse, type JobEvent } from "../../../libs/proto/index.js";
import { withClient } from "../context.js";
import { enumLabel, parseJobStatuses } from "../enums.js";
import { eventLine, jobJson, printJob } from "../job-view.js";
import { formatTime, printJson, printTable } from "../output.js";
import { collectPages } from "../paging.js";
import { parseInteger } from "../payload.js";
import { submitCommand } from "./job-submit.js";
import { watchCommand } from "./job-watch.js";

export function jobCommands(): Command {
  const job = new Command("job").description("submit, inspect, follow, cancel and retry jobs");
  job.addCommand(submitCommand());

  job.command("get").description("a job with its payload, result or error").argument("<job-id>")
    .action(async (jobId: string, _flags: object, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const res = await c.call(c.jobs, "getJobStatus", { jobId, view: JobView.FULL });
        if (json) return printJson(jobJson(res.job!));
        printJob(res.job!);
      }),
    );

  job.command("logs").description("a job's event log, oldest first").argument("<job-id>")
    .action(async (jobId: string, _flags: object, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const { items } = await collectPages<JobEvent>(0, async (pageToken, pageSize) => {
          const page = await c.call(c.jobs, "getJobLogs", { jobId, pageSize, pageToken });
          return { items: page.events, nextPageToken: page.nextPageToken };
        });
        if (json) return printJson(GetJobLogsResponse.toJSON({ events: items, nextPageToken: "" }));
        for (const e of items) process.stdout.write(`${eventLine(e)}\n`);
      }),
    );

  job.command("list").description("jobs of a queue, oldest first")
    .requiredOption("-q, --queue <name>", "the queue")
    .option("--status <list>", "only these statuses, comma separated (pending,running,done,dead_lettered,...)")
    .option("--limit <n>", "at most this many (0: all)", parseInteger("--limit"), 50)
    .option("--page-token <token>", "continue a listing from its next_page_token")
    .action(async (flags: { queue: string; status?: string; limit: number; pageToken?: string }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const statuses = flags.status ? parseJobStatuses(flags.status) : [];
        const { items, nextPageToken } = await collectPages(
          flags.limit,
          async (pageToken, pageSize) => {
            const page = await c.call(c.jobs, "listJobs", { queue: flags.queue, statuses, pageSize, pageToken, view: JobView.BASIC });
            return { items: page.jobs, nextPageToken: page.nextPageToken };
          },
          flags.pageToken ?? "",
        );
        if (json) return printJson(ListJobsResponse.toJSON({ jobs: items, nextPageToken }));
        printTable(
          ["ID", "STATUS", "PRIORITY", "ATTEMPT", "CREATED", "ERROR"],
          items.map((j) => [j.id, enumLabel(JobStatus, j.status), j.priority, j.attempt, formatTime(j.createdAt), j.errorMessage.slice(0, 60)]),
        );
        if (nextPageToken) process.stderr.write(`more: --page-token ${nextPageToken}\n`);
      }),
    );

  job.command("cancel").description("cancel a job that has not ended (it is dead-lettered as CANCELLED)").argument("<job-id>")
    .option("-m, --message <text>", "why, recorded in the job's log", "")
    .action(async (jobId: string, flags: { message: string }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const res = await c.call(c.jobs, "cancelJob", { jobId, message: flags.message });
        if (json) return printJson(jobJson(res.job!));
        process.stdout.write(`job ${jobId} cancelled (${enumLabel(JobStatus, res.job!.status)})\n`);
      }),
    );

  job.command("retry").description("run a dead-lettered job again").argument("<job-id>")
    .action(async (jobId: string, _flags: object, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const res = await c.call(c.jobs, "retryJob", { jobId });
        if (json) return printJson(jobJson(res.job!));
        process.stdout.write(`job ${jobId} queued again (${enumLabel(JobStatus, res.job!.status)})\n`);
      }),
    );

  job.addCommand(watchCommand());
  return job;
}
