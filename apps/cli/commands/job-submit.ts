import { Command } from "commander";
import { SubmitJobResponse, type SubmitJobRequest } from "../../../libs/proto/index.js";
import type { JqClient } from "../../../libs/client/index.js";
import { withClient } from "../context.js";
import { msToDuration } from "../../../libs/wire/to-wire.js";
import { parseDurationMs } from "../durations.js";
import { CliError, EXIT } from "../exit-codes.js";
import { interruptible } from "../interrupt.js";
import { enumLabel } from "../enums.js";
import { JobStatus } from "../../../libs/proto/index.js";
import { readJobLines } from "../ndjson-jobs.js";
import { printJson } from "../output.js";
import { collect, parseInteger, parseMetadata, readPayload } from "../payload.js";
import { progressBar } from "../progress.js";

interface SubmitFlags {
  queue?: string;
  payloadFile?: string;
  file?: string;
  batchSize: number;
  metadata?: string[];
  priority?: number;
  delay?: string;
  runAt?: string;
  maxRetries?: number;
  timeout?: string;
  idempotencyKey?: string;
}

export function submitCommand(): Command {
  return new Command("submit")
    .description("submit a job (payload from the argument, --payload-file or stdin), or many with --file")
    .argument("[payload]", "the payload as text")
    .option("-q, --queue <name>", "the queue (with --file: for lines without one)")
    .option("--payload-file <path>", "read the payload from a file (- for stdin)")
    .option("--file <jobs.ndjson>", "submit every line of an NDJSON file (- for stdin) through SubmitJobs")
    .option("--batch-size <n>", "jobs per SubmitJobs call with --file", parseInteger("--batch-size", 1, 1000), 500)
    .option("--metadata <key=value>", "a metadata entry (repeatable)", collect)
    .option("--priority <n>", "priority, higher runs first", parseInteger("--priority", -32768, 32767))
    .option("--delay <duration>", "run no earlier than this long from now")
    .option("--run-at <time>", "run no earlier than this ISO-8601 instant")
    .option("--max-retries <n>", "retries after the first failure (default: the queue's)", parseInteger("--max-retries"))
    .option("--timeout <duration>", "timeout of each attempt (default: the queue's)")
    .option("--idempotency-key <key>", "submit at most once per key and queue")
    .action(async (payload: string | undefined, flags: SubmitFlags, cmd: Command) =>
      withClient(cmd, async ({ client, json }) => {
        if (flags.file !== undefined) {
          if (payload !== undefined || flags.payloadFile !== undefined) throw new CliError("--file takes the payloads from the file; give no payload");
          return submitMany(client, json, await readJobLines(flags.file, flags.queue), flags.batchSize);
        }
        if (!flags.queue) throw new CliError("job submit: --queue is required");
        const request = await singleRequest(flags.queue, payload, flags);
        const res = await client.call(client.jobs, "submitJob", request);
        if (json) return printJson(SubmitJobResponse.toJSON(res));
        const note = res.deduplicated ? " (deduplicated: an earlier job with this key)" : "";
        process.stdout.write(`${res.job!.id}  ${enumLabel(JobStatus, res.job!.status)}${note}\n`);
      }),
    );
}

async function singleRequest(queue: string, payload: string | undefined, flags: SubmitFlags): Promise<SubmitJobRequest> {
  if (flags.delay !== undefined && flags.runAt !== undefined) throw new CliError("--delay or --run-at, not both");
  let start: SubmitJobRequest["start"];
  if (flags.delay !== undefined) start = { $case: "delay", value: msToDuration(parseDurationMs(flags.delay, "--delay")) };
  if (flags.runAt !== undefined) {
    const at = new Date(flags.runAt);
    if (Number.isNaN(at.getTime())) throw new CliError(`--run-at: "${flags.runAt}" is not an ISO-8601 time`);
    start = { $case: "runAt", value: at };
  }
  return {
    queue,
    payload: await readPayload(payload, flags.payloadFile),
    metadata: parseMetadata(flags.metadata),
    priority: flags.priority ?? 0,
    start,
    maxRetries: flags.maxRetries,
    timeout: flags.timeout !== undefined ? msToDuration(parseDurationMs(flags.timeout, "--timeout")) : undefined,
    idempotencyKey: flags.idempotencyKey ?? "",
  };
}

/**
 * SubmitJobs in batches, with a progress bar on a terminal. Ctrl-C stops after the batch under
 * way; what was submitted is reported either way. Each batch is one transaction on the server.
 */
async function submitMany(client: JqClient, json: boolean, jobs: SubmitJobRequest[], batchSize: number): Promise<void> {
  const bar = progressBar("submitting", jobs.length);
  const stop = interruptible();
  const ids: string[] = [];
  let deduplicated = 0;
  try {
    for (let i = 0; i < jobs.length && !stop.requested; i += batchSize) {
      const batch = jobs.slice(i, i + batchSize);
      const res = await client.call(client.jobs, "submitJobs", { jobs: batch }).catch((error: unknown) => {
        bar.stop();
        process.stderr.write(`jqctl: submitted ${ids.length} of ${jobs.length} jobs (the first ${i} lines) before this error:\n`);
        throw error;
      });
      for (const r of res.results) {
        ids.push(r.job!.id);
        if (r.deduplicated) deduplicated++;
      }
      bar.increment(batch.length);
    }
  } finally {
    bar.stop();
    stop.dispose();
  }
  const interrupted = ids.length < jobs.length;
  if (json) printJson({ submitted: ids.length, deduplicated, total: jobs.length, interrupted, jobIds: ids });
  else process.stdout.write(`submitted ${ids.length} of ${jobs.length} jobs (${deduplicated} deduplicated)${interrupted ? ", interrupted" : ""}\n`);
  if (interrupted) process.exitCode = EXIT.interrupted;
}
