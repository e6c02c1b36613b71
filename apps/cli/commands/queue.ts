import { Command, Option } from "commander";
import {
  DeleteQueueResponse,
  ListQueuesResponse,
  Queue,
  type QueueSettings,
} from "../../../libs/proto/index.js";
import { withClient } from "../context.js";
import { msToDuration } from "../../../libs/wire/to-wire.js";
import { formatDuration, parseDurationMs } from "../durations.js";
import { CliError } from "../exit-codes.js";
import { printFields, printJson, printTable } from "../output.js";
import { collectPages } from "../paging.js";
import { parseInteger } from "../payload.js";

/** Settings flags: name on the command line → field of QueueSettings (and of update_mask). */
const SETTINGS = [
  { flag: "max-retries", key: "maxRetries", mask: "max_retries", kind: "count" },
  { flag: "ttl", key: "ttl", mask: "ttl", kind: "duration" },
  { flag: "backoff-base", key: "backoffBase", mask: "backoff_base", kind: "duration" },
  { flag: "backoff-max", key: "backoffMax", mask: "backoff_max", kind: "duration" },
  { flag: "timeout", key: "timeout", mask: "timeout", kind: "duration" },
  { flag: "max-concurrency", key: "maxConcurrency", mask: "max_concurrency", kind: "count" },
  { flag: "retention", key: "retention", mask: "retention", kind: "duration" },
] as const;

type SettingsFlags = Partial<Record<(typeof SETTINGS)[number]["key"], string>>;

function addSettingsOptions(command: Command, forUpdate: boolean): Command {
  for (const s of SETTINGS) {
    const what = s.kind === "duration" ? "<duration>" : "<n>";
    const extra = forUpdate ? " (`none` clears it)" : "";
    command.addOption(new Option(`--${s.flag} ${what}`, `${s.flag.replace(/-/g, " ")}${extra}`));
  }
  return command;
}

/** QueueSettings from the flags given, and the update_mask paths they name. */
function settingsFrom(flags: SettingsFlags): { settings: QueueSettings; mask: string[] } {
  const settings: Record<string, unknown> = {};
  const mask: string[] = [];
  for (const s of SETTINGS) {
    const text = flags[s.key];
    if (text === undefined) continue;
    mask.push(s.mask);
    if (text === "none") continue;
    settings[s.key] = s.kind === "duration" ? msToDuration(parseDurationMs(text, `--${s.flag}`)) : parseInteger(`--${s.flag}`)(text);
  }
  return { settings: settings as QueueSettings, mask };
}

function showQueue(queue: Queue | undefined, json: boolean): void {
  if (json) return printJson(queue ? Queue.toJSON(queue) : {});
  if (!queue) return;
  const s = queue.settings;
  const d = queue.stats?.depth;
  printFields([
    ["name", queue.name],
    ["paused", queue.paused ? "yes" : "no"],
    ["max retries", s?.maxRetries ?? "-"],
    ["backoff", `${formatDuration(s?.backoffBase)} .. ${formatDuration(s?.backoffMax)}`],
    ["timeout", formatDuration(s?.timeout)],
    ["ttl", formatDuration(s?.ttl)],
    ["max concurrency", s?.maxConcurrency ?? "-"],
    ["retention", formatDuration(s?.retention)],
    ...(d
      ? ([
          ["pending", d.pending],
          ["running", `${d.running} (+${d.assigned} assigned)`],
          ["done", d.done],
          ["dead-lettered", d.deadLettered],
          ["scheduled", queue.stats?.scheduled ?? "0"],
          ["oldest pending", formatDuration(queue.stats?.oldestPendingAge)],
        ] as const)
      : []),
  ]);
}

export function queueCommands(): Command {
  const queue = new Command("queue").description("create, change, inspect and delete queues");

  addSettingsOptions(queue.command("create").description("create a queue").argument("<name>"), false)
    .option("--paused", "create it paused (jobs are accepted but not dispatched)")
    .action(async (name: string, flags: SettingsFlags & { paused?: boolean }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const { settings } = settingsFrom(flags);
        const res = await c.call(c.admin, "createQueue", { name, settings, paused: flags.paused === true });
        showQueue(res.queue, json);
      }),
    );

  addSettingsOptions(queue.command("update").description("change settings of a queue (only the flags given)").argument("<name>"), true)
    .action(async (name: string, flags: SettingsFlags, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const { settings, mask } = settingsFrom(flags);
        if (mask.length === 0) throw new CliError(`queue update: name at least one setting (${SETTINGS.map((s) => `--${s.flag}`).join(", ")})`);
        const res = await c.call(c.admin, "updateQueue", { name, settings, updateMask: mask });
        showQueue(res.queue, json);
      }),
    );

  queue.command("get").description("a queue's settings and job counts").argument("<name>")
    .action(async (name: string, _flags: object, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => showQueue((await c.call(c.admin, "getQueue", { name })).queue, json)),
    );

  queue.command("list").description("every queue with its job counts")
    .option("--limit <n>", "at most this many (0: all)", parseInteger("--limit"), 0)
    .action(async (flags: { limit: number }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const { items, nextPageToken } = await collectPages(flags.limit, async (pageToken, pageSize) => {
          const page = await c.call(c.admin, "listQueues", { pageSize, pageToken });
          return { items: page.queues, nextPageToken: page.nextPageToken };
        });
        if (json) return printJson(ListQueuesResponse.toJSON({ queues: items, nextPageToken }));
        printTable(
          ["NAME", "PAUSED", "PENDING", "RUNNING", "DONE", "DEAD", "OLDEST PENDING"],
          items.map((q) => {
            const d = q.stats?.depth;
            return [q.name, q.paused ? "yes" : "no", d?.pending, d ? Number(d.running) + Number(d.assigned) : "", d?.done, d?.deadLettered, formatDuration(q.stats?.oldestPendingAge)];
          }),
        );
      }),
    );

  for (const [verb, method, text] of [
    ["pause", "pauseQueue", "stop dispatching a queue's jobs (submits are still accepted)"],
    ["resume", "resumeQueue", "dispatch a paused queue's jobs again"],
  ] as const) {
    queue.command(verb).description(text).argument("<name>")
      .action(async (name: string, _flags: object, cmd: Command) =>
        withClient(cmd, async ({ client: c, json }) => {
          const res = await c.call(c.admin, method, { name });
          if (json) return printJson(Queue.toJSON(res.queue!));
          process.stdout.write(`queue ${name} ${res.queue?.paused ? "paused" : "resumed"}\n`);
        }),
      );
  }

  queue.command("delete").description("delete a queue (refused while it holds unfinished jobs, unless --force)").argument("<name>")
    .option("--force", "cancel its unfinished jobs and delete it with its jobs and schedules")
    .action(async (name: string, flags: { force?: boolean }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const res = await c.call(c.admin, "deleteQueue", { name, force: flags.force === true });
        if (json) return printJson(DeleteQueueResponse.toJSON(res));
        process.stdout.write(`queue ${name} deleted (${res.deletedJobs} jobs, ${res.deletedSchedules} schedules)\n`);
      }),
    );
  return queue;
}
