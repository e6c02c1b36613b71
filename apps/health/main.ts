/**
 * jq-health — The cluster view: dependency reachability, leader and nodes, queue depths, outbox lag, Prometheus gauges and a dashboard (SPEC §8).
 *
 * Talks to the other processes only through Postgres, Redis and Kafka, never through apps/api. It
 * reads, except for the dashboard's actions (pause, retry, requeue, drain, …), which an admin API
 * key unlocks and which write through the same libs/ functions apps/api's handlers call. This
 * entry point wires configuration, logging, probes and shutdown (libs/runtime); the view itself
 * lives in libs/cluster-view. Routes: /status (JSON), / (dashboard), /api/… (the dashboard's
 * reads and actions), /metrics (gauges), /healthz, /readyz. Readiness depends on Postgres only:
 * Redis and Kafka are reported, not required (docs/health.md).
 */
import { aliveWindowMs, NodeAnnouncer } from "../../libs/presence/index.js";
import {
  ActionGate,
  clusterViewRoutes,
  KafkaReachability,
  MetricsSampler,
  readClusterView,
  RedisReachability,
  registerClusterViewGauges,
  SnapshotCache,
  type ClusterView,
} from "../../libs/cluster-view/index.js";
import { QueueWaker } from "../../libs/notifications/index.js";
import { openProcessDatabase } from "../../libs/postgres/index.js";
import { runProcess } from "../../libs/runtime/index.js";

/** The snapshot is recomputed at most this often, however many dashboards and scrapers ask. */
const SNAPSHOT_MAX_AGE_MS = 1_000;
/** Each Redis or Kafka check answers within this, so /status stays quick when one is down. */
const DEPENDENCY_TIMEOUT_MS = 1_500;
const RECENT_DEAD_LETTERS = 20;

await runProcess("health", async ({ config, log, registry }) => {
  const db = openProcessDatabase(config, "health", log);
  const redis = config.redis ? new RedisReachability(config.redis.url, DEPENDENCY_TIMEOUT_MS, log) : undefined;
  const kafka = config.kafka ? new KafkaReachability(config.kafka, DEPENDENCY_TIMEOUT_MS) : undefined;
  const cache = new SnapshotCache<ClusterView>(
    () =>
      readClusterView(
        {
          pool: db.pool,
          redis,
          kafka,
          // The same window the API's GetClusterStatus uses.
          aliveWindowMs: aliveWindowMs(config.presenceIntervalMs),
          deadLetterLimit: RECENT_DEAD_LETTERS,
        },
        new Date(),
      ),
    SNAPSHOT_MAX_AGE_MS,
  );
  const snapshot = () => cache.get();
  registerClusterViewGauges(registry, snapshot);
  const gate = new ActionGate(config);
  if (gate.mode === "open") log.warn("NO API KEYS CONFIGURED and JQ_HEALTH_ACTIONS_WITHOUT_KEYS is on: anyone who reaches the dashboard can act");
  else log.info({ actions: gate.mode }, "dashboard actions");
  const sampler = new MetricsSampler(db.pool, log);
  const waker = new QueueWaker(db.pool, log);
  return {
    checks: [db.check],
    components: [db.migrations, new NodeAnnouncer(db.pool, { id: config.nodeId, role: "health" }, config.presenceIntervalMs, log), sampler],
    routes: clusterViewRoutes({ snapshot, pool: db.pool, gate, waker, series: sampler.series, log }),
    async close() {
      await waker.flush();
      await Promise.all([redis?.close(), kafka?.close()]);
      await db.close();
    },
  };
});
