/**
 * jq-health — The cluster view: dependency reachability, leader and nodes, queue depths, outbox lag, Prometheus gauges and a dashboard (SPEC §8).
 *
 * Talks to the other processes only through Postgres, Redis and Kafka, and only reads. This entry
 * point wires configuration, logging, probes and shutdown (libs/runtime); the view itself lives in
 * libs/health-checks. Routes: /status (JSON), / (dashboard), /metrics (gauges), /healthz, /readyz.
 * Readiness depends on Postgres only: Redis and Kafka are reported, not required (docs/health.md).
 */
import { NodeAnnouncer } from "../../libs/cluster/index.js";
import {
  healthRoutes,
  KafkaProbe,
  readClusterSnapshot,
  RedisProbe,
  registerHealthGauges,
  SnapshotCache,
  type ClusterSnapshot,
} from "../../libs/health-checks/index.js";
import { openProcessDatabase } from "../../libs/postgres/index.js";
import { runProcess } from "../../libs/runtime/index.js";

/** The snapshot is recomputed at most this often, however many dashboards and scrapers ask. */
const SNAPSHOT_MAX_AGE_MS = 1_000;
/** Each Redis or Kafka check answers within this, so /status stays quick when one is down. */
const DEPENDENCY_TIMEOUT_MS = 1_500;
const RECENT_DEAD_LETTERS = 20;

await runProcess("health", async ({ config, log, registry }) => {
  const db = openProcessDatabase(config, "health", log);
  const redis = config.redis ? new RedisProbe(config.redis.url, DEPENDENCY_TIMEOUT_MS, log) : undefined;
  const kafka = config.kafka ? new KafkaProbe(config.kafka, DEPENDENCY_TIMEOUT_MS) : undefined;
  const cache = new SnapshotCache<ClusterSnapshot>(
    () =>
      readClusterSnapshot(
        {
          pool: db.pool,
          redis,
          kafka,
          // The same window the API's GetClusterStatus uses: alive for three announcement intervals.
          presenceTimeoutMs: config.presenceIntervalMs * 3,
          deadLetterLimit: RECENT_DEAD_LETTERS,
        },
        new Date(),
      ),
    SNAPSHOT_MAX_AGE_MS,
  );
  const snapshot = () => cache.get();
  registerHealthGauges(registry, snapshot);
  return {
    checks: [db.check],
    components: [db.migrations, new NodeAnnouncer(db.pool, { id: config.nodeId, role: "health" }, config.presenceIntervalMs, log)],
    routes: healthRoutes(snapshot),
    async close() {
      await Promise.all([redis?.close(), kafka?.close()]);
      await db.close();
    },
  };
});
