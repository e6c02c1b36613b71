import { parseArgs } from "node:util";
import { collectDefaultMetrics, Registry } from "prom-client";
import { ConfigError, loadConfig, type Config } from "../config/index.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { ProbeServer, type HttpRoute, type ReadinessCheck } from "../probes/probe-server.js";
import type { Component } from "./component.js";

export type AppName = "api" | "scheduler" | "health";

export interface ProcessContext {
  readonly app: AppName;
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
}

/** What an app builds from its context: its dependency checks and its components. */
export interface ProcessParts {
  /** Dependencies readiness and `--dry-run` check, e.g. Postgres. */
  readonly checks: readonly ReadinessCheck[];
  /** Started in order once the probe server listens; stopped in reverse on SIGTERM. */
  readonly components: readonly Component[];
  /** Closes dependency clients (pools, connections) after every component stopped. */
  close(): Promise<void>;
  /** Extra facts for /readyz (not deciding readiness). */
  readonly details?: () => Record<string, unknown>;
  /** Extra HTTP paths on the probe port (apps/health's /status and dashboard). */
  readonly routes?: Readonly<Record<string, HttpRoute>>;
}

/** Exit code for invalid configuration (sysexits.h EX_CONFIG). */
export const EXIT_CONFIG = 78;

/**
 * The common life of a jq process:
 *
 *   config → logger → build parts → probe server (/healthz up, /readyz 503)
 *          → components start in order → /readyz 200
 *   SIGTERM/SIGINT → /readyz 503 → components stop in reverse → close clients → exit 0
 *
 * `--dry-run` builds the parts, runs every readiness check once, prints the outcome and exits
 * 0 when all pass, 1 otherwise, without starting anything.
 */
export async function runProcess(app: AppName, build: (ctx: ProcessContext) => Promise<ProcessParts>): Promise<void> {
  const args = parseArgs({
    args: process.argv.slice(2),
    options: { "dry-run": { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } },
    strict: true,
    // pm2's cluster mode hands its own words to the script (e.g. "start"); they mean nothing here.
    allowPositionals: true,
  });
  if (args.values.help) {
    process.stdout.write(`usage: jq-${app} [--dry-run]\n  --dry-run  check configuration and connectivity, then exit 0 (ok) or 1\n`);
    return;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`jq-${app}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }

  const log = createLogger({ app, nodeId: config.nodeId, level: config.logLevel });
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges with a counter's `_total` suffix (promtool refuses them); the
  // same counts stay available as nodejs_active_handles / _requests / _resources by type.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name);
  }

  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    log.fatal({ err }, "unhandled rejection");
    process.exit(1);
  });

  let parts: ProcessParts;
  try {
    parts = await build({ app, config, log, registry });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`jq-${app}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const probes = new ProbeServer({
    host: config.http.host,
    port: config.http.ports[app],
    ...(config.http.metricsHost === undefined ? {} : { metricsListener: { host: config.http.metricsHost, port: config.http.metricsPorts[app] } }),
    registry,
    checks: parts.checks,
    ...(parts.details ? { details: parts.details } : {}),
    ...(parts.routes ? { routes: parts.routes } : {}),
  });

  if (args.values["dry-run"]) {
    probes.markReady();
    const report = await probes.readiness();
    await parts.close();
    for (const [name, outcome] of Object.entries(report.checks)) log.info({ dependency: name, outcome }, "dry run check");
    log.info({ ok: report.ready }, report.ready ? "dry run passed" : "dry run failed");
    process.exit(report.ready ? 0 : 1);
  }

  const started: Component[] = [];
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> =>
    (shuttingDown ??= (async () => {
      log.info({ signal }, "shutting down");
      probes.beginShutdown();
      const deadline = setTimeout(() => {
        log.error({ timeoutMs: config.shutdownTimeoutMs }, "shutdown deadline passed; exiting with work still open");
        process.exit(1);
      }, config.shutdownTimeoutMs);
      deadline.unref();
      for (const c of [...started].reverse()) {
        try {
          await c.stop();
        } catch (err) {
          log.error({ err, component: c.name }, "component failed to stop cleanly");
        }
      }
      await parts.close().catch((err: unknown) => log.error({ err }, "closing clients failed"));
      await probes.stop();
      clearTimeout(deadline);
      log.info("stopped");
    })());

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      void shutdown(signal).then(() => process.exit(0));
    });
  }

  try {
    await probes.start();
    for (const c of parts.components) {
      await c.start();
      started.push(c);
    }
  } catch (err) {
    log.fatal({ err }, "start-up failed");
    await shutdown("startup-failure");
    process.exit(1);
  }
  probes.markReady();
  log.info({ httpPort: probes.port, metricsPort: probes.metricsPort }, "ready");
}
