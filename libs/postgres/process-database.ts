import type pg from "pg";
import { ConfigError, type Config } from "../config/index.js";
import type { Logger } from "../logging/logger.js";
import type { ReadinessCheck } from "../probes/probe-server.js";
import { component, type Component } from "../runtime/component.js";
import { loadMigrations, migrate } from "./migrate.js";
import { MIGRATIONS_DIR } from "./migrations-dir.js";
import { createPool, pingPostgres } from "./pool.js";

export interface ProcessDatabase {
  readonly pool: pg.Pool;
  readonly check: ReadinessCheck;
  /** Applies pending migrations at start (when JQ_RUN_MIGRATIONS allows); stops nothing. */
  readonly migrations: Component;
  close(): Promise<void>;
}

/**
 * The Postgres side of a jq process: its pool, its readiness check and its start-up migrations.
 * `settings` are the session settings of every connection (WRITE_PATH_SETTINGS for the processes
 * that write jobs).
 */
export function openProcessDatabase(config: Config, app: string, log: Logger, settings: Readonly<Record<string, string>> = {}): ProcessDatabase {
  const url = config.database.url;
  if (url === undefined) {
    throw new ConfigError([
      { key: "JQ_DATABASE_URL", source: "environment", message: "required (or use `npm start`, which runs an embedded Postgres)" },
    ]);
  }
  const pool = createPool(
    { url, max: config.database.poolMax, connectTimeoutMs: config.database.connectTimeoutMs, applicationName: `jq-${app}`, settings },
    (err) => log.warn({ err: err.message }, "Postgres connection failed"),
  );
  let closed = false;
  return {
    pool,
    check: { name: "postgres", check: () => pingPostgres(pool) },
    migrations: component(
      "migrations",
      async () => {
        if (!config.database.runMigrations) return;
        const result = await migrate(pool, await loadMigrations(MIGRATIONS_DIR), (m) => log.info(m));
        log.info({ applied: result.applied, version: result.current }, "schema up to date");
      },
      async () => {},
    ),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
