import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";

/**
 * Applies the ordered SQL files of `migrations/` (`NNNN_name.sql`). Several processes may start
 * at once: each takes the same session advisory lock, so exactly one applies what is pending while
 * the others wait and then find nothing left to do. Every applied file's SHA-256 is recorded; a
 * file edited after it was applied, an applied version the code does not know (database newer
 * than the code) or a new file numbered below an applied one stops the start-up with a
 * MigrationError instead of guessing. Each file runs in its own transaction with its record row.
 *
 *   jq_schema_migrations(version, name, checksum, applied_at)
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

/** An arbitrary constant: the advisory-lock key every jq process uses for migrations. */
export const MIGRATION_LOCK_KEY = 7_362_831_904;
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`${file}: migration files are named NNNN_lower_snake_name.sql`);
    const sql = (await readFile(join(dir, file), "utf8")).replace(/\r\n/g, "\n");
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new MigrationError(`${file}: version ${version} is used twice`);
    migrations.push({ version, name: match[2]!, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return migrations;
}

export interface MigrateResult {
  readonly applied: readonly number[];
  readonly current: number;
}

export async function migrate(
  pool: pg.Pool,
  migrations: readonly Migration[],
  log: (message: string) => void = () => {},
): Promise<MigrateResult> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS jq_schema_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
        "SELECT version, name, checksum FROM jq_schema_migrations ORDER BY version",
      );
      const pending = planMigrations(migrations, rows);
      for (const m of pending) {
        log(`applying migration ${m.version} ${m.name}`);
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query("INSERT INTO jq_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
            m.version,
            m.name,
            m.checksum,
          ]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw new MigrationError(`migration ${m.version} ${m.name} failed: ${(err as Error).message}`);
        }
      }
      const current = Math.max(0, ...rows.map((r) => r.version), ...pending.map((m) => m.version));
      return { applied: pending.map((m) => m.version), current };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {
        broken = true;
      });
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    // A client whose session may still hold the lock must not go back to the pool.
    client.release(broken);
  }
}

/** Pure: which migrations to apply given what the database recorded; throws on any drift. */
export function planMigrations(
  known: readonly Migration[],
  applied: readonly { version: number; name: string; checksum: string }[],
): Migration[] {
  const byVersion = new Map(known.map((m) => [m.version, m]));
  for (const row of applied) {
    const m = byVersion.get(row.version);
    if (!m) {
      throw new MigrationError(
        `the database has migration ${row.version} ${row.name} that this build does not know; it was migrated by a newer jq`,
      );
    }
    if (m.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${m.version} ${m.name} was edited after it was applied (checksum ${row.checksum.slice(0, 12)}… recorded, ${m.checksum.slice(0, 12)}… on disk); add a new migration instead`,
      );
    }
  }
  const highest = Math.max(0, ...applied.map((r) => r.version));
  const appliedSet = new Set(applied.map((r) => r.version));
  const pending = known.filter((m) => !appliedSet.has(m.version)).sort((a, b) => a.version - b.version);
  const early = pending.find((m) => m.version < highest);
  if (early) {
    throw new MigrationError(`migration ${early.version} ${early.name} is numbered below the applied ${highest}; renumber it`);
  }
  return pending;
}
