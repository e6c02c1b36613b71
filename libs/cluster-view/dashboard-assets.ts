import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { HttpRoute } from "../probes/probe-server.js";
import { getAsset } from "./dashboard-http.js";
import { DASHBOARD_HTML } from "./dashboard-page.js";
import { SCRIPT_CHARTS } from "./dashboard-script-charts.js";
import { SCRIPT_CORE } from "./dashboard-script-core.js";
import { SCRIPT_JOBS } from "./dashboard-script-jobs.js";
import { SCRIPT_OVERVIEW } from "./dashboard-script-overview.js";
import { SCRIPT_WORKERS } from "./dashboard-script-workers.js";
import { DASHBOARD_CSS } from "./dashboard-style.js";

/** The dashboard's own script: its parts in one strict-mode function scope. */
export const DASHBOARD_JS = `(() => {\n"use strict";\n${[SCRIPT_CORE, SCRIPT_CHARTS, SCRIPT_OVERVIEW, SCRIPT_JOBS, SCRIPT_WORKERS].join("\n")}\n})();\n`;

/**
 * uPlot (MIT, ~50 KB) draws the charts. Its files are read once from the installed package and
 * served by this process, so the page loads nothing from elsewhere.
 */
function readUplot(): { js: Buffer; css: Buffer } {
  const require = createRequire(import.meta.url);
  return {
    js: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js")),
    css: readFileSync(require.resolve("uplot/dist/uPlot.min.css")),
  };
}

/** `/` and `/assets/…`: the page, its script and style, and the chart library. */
export function assetRoutes(): Record<string, HttpRoute> {
  const uplot = readUplot();
  return {
    "/": getAsset("text/html; charset=utf-8", DASHBOARD_HTML),
    "/assets/dashboard.js": getAsset("text/javascript; charset=utf-8", DASHBOARD_JS),
    "/assets/dashboard.css": getAsset("text/css; charset=utf-8", DASHBOARD_CSS),
    "/assets/uplot.js": getAsset("text/javascript; charset=utf-8", uplot.js),
    "/assets/uplot.css": getAsset("text/css; charset=utf-8", uplot.css),
  };
}
