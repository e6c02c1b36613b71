/**
 * jq-scheduler — Leader-elected duties that depend on time: retries, TTLs, heartbeats, timeouts, the outbox relay to Kafka, cron and retention (SPEC §7).
 *
 * Talks to the other processes only through Postgres, Redis and Kafka. This entry point wires
 * configuration, logging, probes and shutdown (libs/runtime); the app's own parts plug in here.
 */
import { openProcessDatabase } from "../../libs/postgres/index.js";
import { runProcess } from "../../libs/runtime/index.js";

await runProcess("scheduler", async ({ config, log }) => {
  const db = openProcessDatabase(config, "scheduler", log);
  return {
    checks: [db.check],
    components: [db.migrations],
    close: () => db.close(),
  };
});
