import { Command } from "commander";
import { ListWorkersResponse, Worker, WorkerStatus } from "../../../libs/proto/index.js";
import { withClient } from "../context.js";
import { enumLabel, parseWorkerStatuses } from "../enums.js";
import { formatTime, printJson, printTable } from "../output.js";
import { collectPages } from "../paging.js";
import { parseInteger } from "../payload.js";

export function workerCommands(): Command {
  const worker = new Command("worker").description("workers: list, drain");

  worker.command("list").description("registered workers")
    .option("-q, --queue <name>", "only workers taking this queue")
    .option("--status <list>", "only these statuses, comma separated (online,draining,offline)")
    .option("--limit <n>", "at most this many (0: all)", parseInteger("--limit"), 0)
    .action(async (flags: { queue?: string; status?: string; limit: number }, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const statuses = flags.status ? parseWorkerStatuses(flags.status) : [];
        const { items, nextPageToken } = await collectPages(flags.limit, async (pageToken, pageSize) => {
          const page = await c.call(c.admin, "listWorkers", { queue: flags.queue ?? "", statuses, pageSize, pageToken });
          return { items: page.workers, nextPageToken: page.nextPageToken };
        });
        if (json) return printJson(ListWorkersResponse.toJSON({ workers: items, nextPageToken }));
        printTable(
          ["ID", "STATUS", "HOST", "QUEUES", "ACTIVE", "LAST HEARTBEAT"],
          items.map((w) => [w.id, enumLabel(WorkerStatus, w.status), w.hostname, w.queues.join(","), `${w.activeJobs}/${w.concurrency}`, formatTime(w.lastHeartbeatAt)]),
        );
      }),
    );

  worker.command("drain").description("ask a worker to finish what it holds, take nothing new, then leave").argument("<worker-id>")
    .action(async (workerId: string, _flags: object, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const res = await c.call(c.admin, "drainWorker", { workerId });
        if (json) return printJson(Worker.toJSON(res.worker!));
        process.stdout.write(`worker ${workerId} ${enumLabel(WorkerStatus, res.worker!.status)}\n`);
      }),
    );
  return worker;
}
