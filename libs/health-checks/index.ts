/**
 * libs/health-checks — the cluster view behind apps/health (SPEC §8): reachability probes for
 * Redis and Kafka, one snapshot of the cluster read from Postgres (cached so polling is cheap),
 * the Prometheus gauges and the `/status` and dashboard routes built on it. Read-only: it never
 * writes to Postgres, Redis or Kafka. See docs/health.md.
 */
export * from "./cluster-snapshot.js";
export * from "./dependency-probes.js";
export * from "./health-gauges.js";
export * from "./health-routes.js";
export * from "./snapshot-cache.js";
export { DASHBOARD_HTML } from "./dashboard-page.js";
