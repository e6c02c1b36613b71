import { Command } from "commander";
import { ListSchedulesResponse, Schedule } from "../../../libs/proto/index.js";
import { withClient } from "../context.js";
import { msToDuration } from "../../../libs/wire/to-wire.js";
import { parseDurationMs } from "../durations.js";
import { formatTime, printFields, printJson, printTable, previewBytes } from "../output.js";
import { collectPages } from "../paging.js";
import { collect, parseInteger, parseMetadata, readPayload } from "../payload.js";

interface CreateFlags {
  queue: string;
  cron: string;
  timeZone?: string;
  disabled?: boolean;
  payloadFile?: string;
  metadata?: string[];
  priority?: number;
  maxRetries?: number;
  timeout?: string;
}

export function scheduleCommands(): Command {
  const schedule = new Command("schedule").description("recurring jobs on a cron expression");

  schedule.command("create").description("create a schedule that submits a job on each cron tick")
    .argument("<name>")
    .argument("[payload]", "the payload of each job, as text (or --payload-file, or stdin)")
    .requiredOption("-q, --queue <name>", "the queue its jobs go to")
    .requiredOption("--cron <expression>", "five-field cron expression, e.g. \"*/5 * * * *\"")
    .option("--time-zone <iana>", "time zone of the expression (default UTC)")
    .option("--disabled", "create it switched off")
    .option("--payload-file <path>", "read the payload from a file (- for stdin)")
    .option("--metadata <key=value>", "a metadata entry (repeatable)", collect)
    .option("--priority <n>", "priority of its jobs", parseInteger("--priority", -32768, 32767))
    .option("--max-retries <n>", "retries of its jobs", parseInteger("--max-retries"))
    .option("--timeout <duration>", "timeout of each attempt of its jobs")
    .action(async (name: string, payload: string | undefined, flags: CreateFlags, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const res = await c.call(c.admin, "createSchedule", {
          name,
          queue: flags.queue,
          cron: flags.cron,
          timeZone: flags.timeZone ?? "",
          enabled: flags.disabled ? false : undefined,
          payload: await readPayload(payload, flags.payloadFile),
          priority: flags.priority ?? 0,
          metadata: parseMetadata(flags.metadata),
          maxRetries: flags.maxRetries,
          timeout: flags.timeout !== undefined ? msToDuration(parseDurationMs(flags.timeout, "--timeout")) : undefined,
        });
        const s = res.schedule!;
        if (json) return printJson(Schedule.toJSON(s));
        printFields([["name", s.name], ["queue", s.queue], ["cron", `${s.cron} (${s.timeZone || "UTC"})`], ["enabled", s.enabled ? "yes" : "no"], ["payload", previewBytes(s.payload)], ["next run", formatTime(s.nextRunAt)]]);
      }),
    );

  schedule.command("list").description("schedules, by name")
    .option("-q, --queue <name>", "only those of this queue")
    .option("--limit <n>", "at most this many (0: all)", parseInteger("--limit"), 0)
    .action(async (flags: { queue?: string; limit: number }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const { items, nextPageToken } = await collectPages(flags.limit, async (pageToken, pageSize) => {
          const page = await c.call(c.admin, "listSchedules", { queue: flags.queue ?? "", pageSize, pageToken });
          return { items: page.schedules, nextPageToken: page.nextPageToken };
        });
        if (json) return printJson(ListSchedulesResponse.toJSON({ schedules: items, nextPageToken }));
        printTable(
          ["NAME", "QUEUE", "CRON", "TIME ZONE", "ENABLED", "NEXT RUN"],
          items.map((s) => [s.name, s.queue, s.cron, s.timeZone || "UTC", s.enabled ? "yes" : "no", formatTime(s.nextRunAt)]),
        );
      }),
    );

  schedule.command("delete").description("delete a schedule (jobs it already submitted stay)").argument("<name>")
    .action(async (name: string, _flags: object, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        await c.call(c.admin, "deleteSchedule", { name });
        if (json) return printJson({ deleted: name });
        process.stdout.write(`schedule ${name} deleted\n`);
      }),
    );
  return schedule;
}
