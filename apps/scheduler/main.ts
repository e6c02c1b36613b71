/**
 * jq-scheduler — duties that depend on time (SPEC §7): lost workers, undelivered assignments and
 * execution timeouts today; leader election, the outbox relay to Kafka, TTLs, cron and retention
 * come with the scheduler issue. Every duty is a conditional, idempotent update, so several
 * schedulers running them at once (before leader election exists) cannot double-apply anything.
 *
 * Talks to the other processes only through Postgres (and later Redis and Kafka).
 */
import { Counter } from "prom-client";
import { openProcessDatabase } from "../../libs/postgres/index.js";
import { runProcess } from "../../libs/runtime/index.js";
import { sweepExecutionTimeouts, sweepLostWorkers, sweepUndeliveredAssignments } from "../../libs/sweeps/index.js";
import { IntervalDuty } from "./interval-duty.js";

await runProcess("scheduler", async ({ config, log, registry }) => {
  const db = openProcessDatabase(config, "scheduler", log);
  const changed = new Counter({
    name: "jq_scheduler_duty_changes_total",
    help: "Jobs or workers each scheduler duty changed.",
    labelNames: ["duty"],
    registers: [registry],
  });
  const every = Math.max(100, Math.min(1000, Math.floor(config.workers.heartbeatIntervalMs / 2)));
  const duties = [
    new IntervalDuty("lost-workers", every, async () => (await sweepLostWorkers(db.pool, config.workers.heartbeatTimeoutMs)).length, changed, log),
    new IntervalDuty("undelivered-assignments", every, () => sweepUndeliveredAssignments(db.pool), changed, log),
    new IntervalDuty("execution-timeouts", every, () => sweepExecutionTimeouts(db.pool), changed, log),
  ];
  return {
    checks: [db.check],
    components: [db.migrations, ...duties],
    close: () => db.close(),
  };
});
