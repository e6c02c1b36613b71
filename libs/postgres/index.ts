export { createPool, pingPostgres, WRITE_PATH_SETTINGS, type PoolOptions } from "./pool.js";
export { loadMigrations, migrate, planMigrations, MigrationError, MIGRATION_LOCK_KEY, type Migration } from "./migrate.js";
export { describeSchema } from "./schema-snapshot.js";
export { openProcessDatabase, type ProcessDatabase } from "./process-database.js";
export { MIGRATIONS_DIR, SCHEMA_SNAPSHOT_FILE } from "./migrations-dir.js";
export { bindStore, type BoundStore } from "./bind-store.js";
export { namedStatement } from "./named-statement.js";
