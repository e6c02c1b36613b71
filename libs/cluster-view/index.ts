/**
 * libs/cluster-view — the cluster view, apps/health's read model (SPEC §8): the reachability of
 * Redis and Kafka, one ClusterView read from Postgres (cached so polling is cheap),
 * the Prometheus gauges, and the dashboard: its page and assets, JSON reads (job browser, job
 * page, workers, the sampled time series) and its actions, which write only through the same
 * libs/ functions apps/api's handlers call and only for an admin key. See docs/health.md.
 *
 * Names: a *probe* is a process's own liveness/readiness (libs/probes: /healthz, /readyz);
 * *reachability* is what this view reports of a dependency and never decides readiness;
 * *presence* is who is in the cluster (libs/presence), which the view includes.
 */
export * from "./action-gate.js";
export * from "./cluster-view.js";
export * from "./reachability.js";
export * from "./view-gauges.js";
export * from "./view-routes.js";
export * from "./metrics-sampler.js";
export * from "./snapshot-cache.js";
export { DASHBOARD_HTML } from "./dashboard-page.js";
export { DASHBOARD_JS } from "./dashboard-assets.js";
