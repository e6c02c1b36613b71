import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The repository's `migrations/` folder, found from this module whether it runs from source
 * (libs/postgres) or from the build (dist/libs/postgres).
 */
export const MIGRATIONS_DIR: string = (() => {
  for (const rel of ["../../migrations", "../../../migrations"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/0001_initial_schema.sql`)) return dir;
  }
  throw new Error("cannot find the migrations/ folder next to libs/ or dist/");
})();

export const SCHEMA_SNAPSHOT_FILE = `${MIGRATIONS_DIR}/snapshot/schema.sql`;
