import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import type { QueueWaker } from "../notifications/index.js";
import type { HttpRoute } from "../probes/probe-server.js";
import type { ActionGate } from "./action-gate.js";
import type { ClusterView } from "./cluster-view.js";
import { actionRoutes } from "./dashboard-actions.js";
import { assetRoutes } from "./dashboard-assets.js";
import { getJson } from "./dashboard-http.js";
import { readRoutes } from "./dashboard-reads.js";
import type { TimeSeries } from "./time-series.js";

export interface ClusterViewRouteDeps {
  readonly snapshot: () => Promise<ClusterView>;
  readonly pool: pg.Pool;
  readonly gate: ActionGate;
  readonly waker: QueueWaker;
  readonly series: TimeSeries;
  readonly log: Logger;
}

/**
 * apps/health's extra HTTP paths: `/status` (the snapshot as JSON), `/` and `/assets/…` (the
 * dashboard), `/api/…` reads (GET) and actions (POST). docs/health.md lists them all.
 */
export function clusterViewRoutes(deps: ClusterViewRouteDeps): Record<string, HttpRoute> {
  const { pool, log } = deps;
  return {
    "/status": getJson(log, () => deps.snapshot()),
    ...assetRoutes(),
    ...readRoutes({ pool, log, mode: deps.gate.mode, series: deps.series }),
    ...actionRoutes({ pool, gate: deps.gate, waker: deps.waker, log }),
  };
}
