/**
 * jq-api — gRPC server: JobService, WorkerService and AdminService; holds worker streams and dispatches to them (SPEC §1, §4, §5).
 *
 * Talks to the other processes only through Postgres, Redis and Kafka. This entry point wires
 * configuration, logging, probes and shutdown (libs/runtime); the app's own parts plug in here.
 */
import { openProcessDatabase } from "../../libs/postgres/index.js";
import { runProcess } from "../../libs/runtime/index.js";

await runProcess("api", async ({ config, log }) => {
  const db = openProcessDatabase(config, "api", log);
  return {
    checks: [db.check],
    components: [db.migrations],
    close: () => db.close(),
  };
});
