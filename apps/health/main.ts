/**
 * jq-health — The cluster view: dependency reachability, leader and nodes, queue depths, outbox lag, Prometheus gauges and a dashboard (SPEC §8).
 *
 * Talks to the other processes only through Postgres, Redis and Kafka. This entry point wires
 * configuration, logging, probes and shutdown (libs/runtime); the app's own parts plug in here.
 */
import { NodeAnnouncer } from "../../libs/cluster/index.js";
import { openProcessDatabase } from "../../libs/postgres/index.js";
import { runProcess } from "../../libs/runtime/index.js";

await runProcess("health", async ({ config, log }) => {
  const db = openProcessDatabase(config, "health", log);
  return {
    checks: [db.check],
    components: [db.migrations, new NodeAnnouncer(db.pool, { id: config.nodeId, role: "health" }, config.presenceIntervalMs, log)],
    close: () => db.close(),
  };
});
