/**
 * jq-scheduler — the duties that depend on time (SPEC §7), run by one elected leader among the
 * scheduler replicas; the others stand by and take over within one lease.
 *
 *   leader election (Redis lock, or a Postgres advisory lock without Redis; libs/leader)
 *     └─ while leading, each in a fenced transaction on its own interval:
 *          lost workers · undelivered assignments · execution timeouts · TTL expiry ·
 *          due delayed jobs (wake dispatchers) · retention
 *        the outbox relay to Kafka (libs/outbox; none without Kafka: events wait in the outbox)
 *        and recurring schedules through pg-boss (cron-runner.ts)
 *
 * Talks to the other processes only through Postgres, Redis and Kafka.
 */
import { Counter, Gauge } from "prom-client";
import { createLeaderElector } from "../../libs/leader/index.js";
import { NodeAnnouncer } from "../../libs/presence/index.js";
import { QueueWaker } from "../../libs/notifications/index.js";
import { createOutboxRelay, measureOutboxLag } from "../../libs/outbox/index.js";
import { openProcessDatabase, WRITE_PATH_SETTINGS } from "../../libs/postgres/index.js";
import { component, runProcess } from "../../libs/runtime/index.js";
import {
  sweepExecutionTimeouts,
  sweepExpiredWorkers,
  sweepExpiredJobs,
  sweepLostWorkers,
  sweepRetention,
  sweepUndeliveredAssignments,
  wakeDueQueues,
} from "../../libs/sweeps/index.js";
import { CronRunner } from "./cron-runner.js";
import { IntervalDuty } from "./interval-duty.js";

await runProcess("scheduler", async ({ config, log, registry }) => {
  const db = openProcessDatabase(config, "scheduler", log, WRITE_PATH_SETTINGS);
  const s = config.scheduler;
  const elector = createLeaderElector({
    name: "scheduler",
    nodeId: config.nodeId,
    redis: config.redis ? { url: config.redis.url, keyPrefix: `${config.redis.keyPrefix}leader:` } : undefined,
    databaseUrl: config.database.url!,
    pool: db.pool,
    leaseMs: s.leaderLeaseMs,
    log,
  });
  const relay = createOutboxRelay(config, {
    pool: db.pool,
    log,
    batchSize: s.outboxBatchSize,
    pollMs: s.outboxPollMs,
    hooks: { onRelayed: (n) => relayed.inc(n) },
  });

  const changed = new Counter({ name: "jq_scheduler_duty_changes_total", help: "Jobs or workers each scheduler duty changed.", labelNames: ["duty"], registers: [registry] });
  const relayed = new Counter({ name: "jq_outbox_relayed_total", help: "Events this node relayed from the outbox to Kafka.", registers: [registry] });
  new Gauge({
    name: "jq_scheduler_leader",
    help: "1 while this scheduler node is the leader, else 0.",
    registers: [registry],
    collect() {
      this.set(elector.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: "jq_scheduler_leader_term",
    help: "Fencing term of this node's leadership; 0 when it does not lead.",
    registers: [registry],
    collect() {
      this.set(Number(elector.currentTerm() ?? 0n));
    },
  });

  // Outbox lag is published by every scheduler (also without Kafka, when the outbox only grows).
  const lag = () => measureOutboxLag(db.pool, new Date());
  new Gauge({
    name: "jq_outbox_events",
    help: "Events waiting in the outbox for Kafka.",
    registers: [registry],
    async collect() {
      this.set((await lag()).rows);
    },
  });
  new Gauge({
    name: "jq_outbox_oldest_age_seconds",
    help: "Age of the oldest event waiting in the outbox; 0 when it is empty.",
    registers: [registry],
    async collect() {
      this.set(((await lag()).oldestAgeMs ?? 0) / 1000);
    },
  });

  const deps = { pool: db.pool, elector, changed, log };
  const every = s.sweepIntervalMs;
  const duties = [
    new IntervalDuty("lost-workers", every, async (tx) => (await sweepLostWorkers(tx, config.workers.heartbeatTimeoutMs)).length, deps),
    new IntervalDuty("undelivered-assignments", every, (tx) => sweepUndeliveredAssignments(tx), deps),
    new IntervalDuty("execution-timeouts", every, (tx) => sweepExecutionTimeouts(tx), deps),
    new IntervalDuty("ttl-expiry", every, (tx) => sweepExpiredJobs(tx), deps),
    new IntervalDuty("due-jobs", every, (tx) => wakeDueQueues(tx, every * 2), deps),
    new IntervalDuty("retention", s.retentionIntervalMs, (tx) => sweepRetention(tx), deps),
    new IntervalDuty("worker-retention", s.retentionIntervalMs, (tx) => sweepExpiredWorkers(tx, config.workers.retentionMs), deps),
  ];

  // The relay runs only while this node leads; a demoted relay stops, and overlap during a
  // failover can only duplicate events (consumers dedupe by event id), never lose or reorder them.
  const waker = new QueueWaker(db.pool, log);
  const cron = new CronRunner(config.database.url!, db.pool, waker, log, {
    syncMs: 5_000,
    cronMonitorIntervalSeconds: s.cronMonitorIntervalSeconds,
  });

  const announcer = new NodeAnnouncer(db.pool, { id: config.nodeId, role: "scheduler", isLeader: () => elector.isLeader() }, config.presenceIntervalMs, log);
  elector.onElected((term) => {
    log.info({ term: String(term) }, "elected scheduler leader");
    announcer.refresh();
    void relay?.start();
    void cron.lead();
  });
  elector.onDemoted((d) => {
    log.warn({ term: String(d.term), reason: d.reason }, "no longer the scheduler leader");
    announcer.refresh();
    void relay?.stop();
    void cron.unlead();
  });
  if (!relay) log.warn("no Kafka configured (JQ_KAFKA_BROKERS): job events stay in the outbox");

  return {
    checks: [db.check],
    // Stopped in reverse: duties and the relay first, the elector (which releases the lock) last.
    components: [
      db.migrations,
      announcer,
      elector,
      component("outbox-relay", async () => {}, async () => relay?.stop()),
      component("cron", async () => {}, async () => {
        await cron.unlead();
        await waker.flush();
      }),
      ...duties,
    ],
    close: () => db.close(),
    details: () => ({ leader: elector.isLeader(), term: elector.currentTerm()?.toString() ?? null, relay: relay ? "kafka" : "none" }),
  };
});
