import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import type { QueueWaker } from "../notifications/index.js";
import type { ProbeRoute } from "../probes/probe-server.js";
import type { ActionGate } from "./action-gate.js";
import type { ClusterSnapshot } from "./cluster-snapshot.js";
import { actionRoutes } from "./dashboard-actions.js";
import { assetRoutes } from "./dashboard-assets.js";
import { getJson } from "./dashboard-http.js";
import { readRoutes } from "./dashboard-reads.js";
import type { TimeSeries } from "./time-series.js";

export interface HealthRouteDeps {
  readonly snapshot: () => Promise<ClusterSnapshot>;
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
export function healthRoutes(deps: HealthRouteDeps): Record<string, ProbeRoute> {
  const { pool, log } = deps;
  return {
    "/status": getJson(log, () => deps.snapshot()),
    ...assetRoutes(),
    ...readRoutes({ pool, log, mode: deps.gate.mode, series: deps.series }),
    ...actionRoutes({ pool, gate: deps.gate, waker: deps.waker, log }),
  };
}
