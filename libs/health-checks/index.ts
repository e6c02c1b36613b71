/**
 * libs/health-checks — the cluster view behind apps/health (SPEC §8): reachability probes for
 * Redis and Kafka, one snapshot of the cluster read from Postgres (cached so polling is cheap),
 * the Prometheus gauges, and the dashboard: its page and assets, JSON reads (job browser, job
 * page, workers, the sampled time series) and its actions, which write only through the same
 * libs/ functions apps/api's handlers call and only for an admin key. See docs/health.md.
 */
export * from "./action-gate.js";
export * from "./cluster-snapshot.js";
export * from "./dependency-probes.js";
export * from "./health-gauges.js";
export * from "./health-routes.js";
export * from "./metrics-sampler.js";
export * from "./snapshot-cache.js";
export { DASHBOARD_HTML } from "./dashboard-page.js";
export { DASHBOARD_JS } from "./dashboard-assets.js";
