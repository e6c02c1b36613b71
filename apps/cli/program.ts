import { Command, Option } from "commander";
import { clusterCommands } from "./commands/cluster.js";
import { completionCommand } from "./commands/completion.js";
import { dlqCommands } from "./commands/dlq.js";
import { jobCommands } from "./commands/job.js";
import { queueCommands } from "./commands/queue.js";
import { scheduleCommands } from "./commands/schedule.js";
import { workerCommands } from "./commands/worker.js";

/** The whole command tree of jqctl (docs/cli.md). */
export function buildProgram(): Command {
  const program = new Command("jqctl")
    .description("command line for jq, the distributed job queue (talks gRPC to apps/api)")
    .option("-a, --address <host:port>", "address of an API replica or its load balancer", "127.0.0.1:50051")
    .addOption(new Option("--api-key <key>", "API key, sent as a bearer token").env("JQ_API_KEY"))
    .option("--tls", "use TLS with the system's trusted roots")
    .option("--ca-file <pem>", "use TLS, trusting this CA (implies --tls)")
    .option("--cert-file <pem>", "client certificate for mutual TLS (with --key-file)")
    .option("--key-file <pem>", "client key for mutual TLS (with --cert-file)")
    .option("--deadline <duration>", "deadline of each call, e.g. 10s or 500ms", "10s")
    .option("--json", "print one JSON document (the proto3 JSON mapping) instead of tables")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions(false);
  for (const group of [queueCommands(), jobCommands(), dlqCommands(), workerCommands(), scheduleCommands(), clusterCommands()]) {
    program.addCommand(group);
  }
  program.addCommand(completionCommand(program));
  return program;
}
