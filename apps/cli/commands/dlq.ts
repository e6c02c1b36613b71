import { Command } from "commander";
import type { JqClient } from "../../../libs/client/index.js";
import { JobView, ListDeadLettersResponse, TransitionReason, type DeadLetterSelector } from "../../../libs/proto/index.js";
import { withClient } from "../context.js";
import { enumLabel, parseReasons } from "../enums.js";
import { CliError, EXIT } from "../exit-codes.js";
import { interruptible } from "../interrupt.js";
import { formatTime, printJson, printTable } from "../output.js";
import { collectPages } from "../paging.js";
import { collect, parseInteger } from "../payload.js";
import { progressBar } from "../progress.js";

interface SelectorFlags {
  queue: string;
  reason?: string;
  job?: string[];
}

function selector(flags: SelectorFlags): DeadLetterSelector {
  return { queue: flags.queue, reasons: flags.reason ? parseReasons(flags.reason) : [], jobIds: flags.job ?? [] };
}

function selectorOptions(command: Command): Command {
  return command
    .requiredOption("-q, --queue <name>", "the queue")
    .option("--reason <list>", "only these reasons, comma separated (retries_exhausted,not_retryable,cancelled,expired,...)")
    .option("--job <job-id>", "only this job (repeatable)", collect);
}

export function dlqCommands(): Command {
  const dlq = new Command("dlq").description("dead letters: list, requeue, purge");

  selectorOptions(dlq.command("list").description("dead-lettered jobs of a queue"))
    .option("--limit <n>", "at most this many (0: all)", parseInteger("--limit"), 50)
    .action(async (flags: SelectorFlags & { limit: number }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const { items, nextPageToken } = await collectPages(flags.limit, async (pageToken, pageSize) => {
          const page = await c.call(c.admin, "listDeadLetters", { selector: selector(flags), pageSize, pageToken, view: JobView.BASIC });
          return { items: page.jobs, nextPageToken: page.nextPageToken };
        });
        if (json) return printJson(ListDeadLettersResponse.toJSON({ jobs: items, nextPageToken }));
        printTable(
          ["ID", "REASON", "ATTEMPT", "COMPLETED", "ERROR"],
          items.map((j) => [j.id, enumLabel(TransitionReason, j.statusReason), j.attempt, formatTime(j.completedAt), j.errorMessage.slice(0, 60)]),
        );
      }),
    );

  selectorOptions(dlq.command("requeue").description("send dead letters back to PENDING with their retries reset"))
    .option("--all", "every dead letter the selector matches, in batches, with progress; Ctrl-C stops after the current batch")
    .option("--limit <n>", "at most this many, in one call", parseInteger("--limit", 1))
    .option("--batch-size <n>", "dead letters per call with --all", parseInteger("--batch-size", 1, 100_000), 500)
    .action(async (flags: SelectorFlags & { all?: boolean; limit?: number; batchSize: number }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const modes = [flags.all === true, flags.limit !== undefined, (flags.job ?? []).length > 0 && flags.all !== true].filter(Boolean).length;
        if (modes !== 1) throw new CliError("dlq requeue: give exactly one of --all, --limit <n> or --job <id>");
        if (!flags.all) {
          const res = await c.call(c.admin, "requeueDeadLetters", { selector: selector(flags), limit: flags.limit ?? 0 });
          return report(json, Number(res.requeuedCount), false);
        }
        const { done, interrupted } = await requeueAll(c, selector(flags), flags.batchSize);
        report(json, done, interrupted);
      }),
    );

  selectorOptions(dlq.command("purge").description("delete dead letters for good"))
    .option("--all", "every dead letter the selector matches (required unless --job is given)")
    .action(async (flags: SelectorFlags & { all?: boolean }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        if (!flags.all && (flags.job ?? []).length === 0) throw new CliError("dlq purge: give --all or --job <id>");
        const res = await c.call(c.admin, "purgeDeadLetters", { selector: selector(flags) });
        if (json) return printJson({ purgedCount: Number(res.purgedCount) });
        process.stdout.write(`purged ${res.purgedCount} dead letters from ${flags.queue}\n`);
      }),
    );
  return dlq;
}

function report(json: boolean, requeued: number, interrupted: boolean): void {
  if (json) printJson({ requeuedCount: requeued, interrupted });
  else process.stdout.write(`requeued ${requeued} dead letters${interrupted ? " (interrupted; run again to requeue the rest)" : ""}\n`);
  if (interrupted) process.exitCode = EXIT.interrupted;
}

/**
 * RequeueDeadLetters in batches until none is left. Each call is its own transaction, so
 * stopping between two calls (Ctrl-C) leaves every job either requeued or still dead-lettered.
 * The bar's total is the queue's dead-letter count when the run starts.
 */
async function requeueAll(c: JqClient, sel: DeadLetterSelector, batchSize: number): Promise<{ done: number; interrupted: boolean }> {
  const { queue } = await c.call(c.admin, "getQueue", { name: sel.queue });
  const bar = progressBar("requeueing", Number(queue?.stats?.depth?.deadLettered ?? 0));
  const stop = interruptible();
  let done = 0;
  try {
    for (;;) {
      const res = await c.call(c.admin, "requeueDeadLetters", { selector: sel, limit: batchSize });
      const n = Number(res.requeuedCount);
      done += n;
      bar.increment(n);
      if (n < batchSize) return { done, interrupted: false };
      if (stop.requested) return { done, interrupted: true };
    }
  } finally {
    bar.stop();
    stop.dispose();
  }
}
