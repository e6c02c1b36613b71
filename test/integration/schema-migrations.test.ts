import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeSchema, loadMigrations, migrate, MigrationError, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { startApp } from "../support/app-process.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

describe("migrations", () => {
  const databases: TestDatabase[] = [];
  const fresh = async () => {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  };
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "jq-migrations-"));
  });
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.drop()));
    await rm(scratch, { recursive: true, force: true });
  });

  it("matches the committed schema snapshot (run `npm run schema:dump` after a schema change)", async () => {
    const db = await fresh();
    await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
    await expect(await describeSchema(db.pool)).toMatchFileSnapshot("../../migrations/snapshot/schema.sql");
  });

  it("two jq processes starting at once on an empty database leave one correct schema", async () => {
    const db = await fresh();
    const env = { JQ_DATABASE_URL: db.url, JQ_API_HTTP_PORT: "0", JQ_SCHEDULER_HTTP_PORT: "0", JQ_LOG_LEVEL: "info" };
    const api = startApp("api", env);
    const scheduler = startApp("scheduler", env);
    try {
      await Promise.all([api.ready(), scheduler.ready()]);
      const known = await loadMigrations(MIGRATIONS_DIR);
      const { rows } = await db.pool.query<{ version: number; checksum: string }>(
        "SELECT version, checksum FROM jq_schema_migrations ORDER BY version",
      );
      expect(rows).toEqual(known.map((m) => ({ version: m.version, checksum: m.checksum })));
      // Exactly one of the two applied each migration; the other found nothing pending.
      const applying = [...api.logs, ...scheduler.logs].filter((l) => String(l.msg).startsWith("applying migration"));
      expect(applying).toHaveLength(known.length);
      const upToDate = [...api.logs, ...scheduler.logs].filter((l) => l.msg === "schema up to date");
      expect(upToDate.map((l) => (l.applied as number[]).length).sort()).toEqual([0, known.length]);

      const reference = await fresh();
      await migrate(reference.pool, known);
      expect(await describeSchema(db.pool)).toBe(await describeSchema(reference.pool));
    } finally {
      expect(await api.stop()).toBe(0);
      expect(await scheduler.stop()).toBe(0);
    }
  });

  it("eight concurrent runners in separate pools apply each migration once", async () => {
    const db = await fresh();
    const known = await loadMigrations(MIGRATIONS_DIR);
    const pools = Array.from({ length: 8 }, () => new pg.Pool({ connectionString: db.url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, known)));
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, known.length]);
      expect(results.every((r) => r.current === known.at(-1)!.version)).toBe(true);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("refuses to start when an applied migration file was edited, and changes nothing", async () => {
    const db = await fresh();
    const dir = join(scratch, "edited");
    await cp(MIGRATIONS_DIR, dir, { recursive: true, filter: (src) => !src.includes("snapshot") });
    await writeFile(join(dir, "0900_extra.sql"), "CREATE TABLE extra (id int);\n");
    await migrate(db.pool, await loadMigrations(dir));
    await writeFile(join(dir, "0900_extra.sql"), "CREATE TABLE extra (id bigint);\n");
    await writeFile(join(dir, "0901_more.sql"), "CREATE TABLE more (id int);\n");

    await expect(migrate(db.pool, await loadMigrations(dir))).rejects.toThrow(MigrationError);
    await expect(migrate(db.pool, await loadMigrations(dir))).rejects.toThrow(/migration 900 extra was edited after it was applied/);
    const { rows } = await db.pool.query("SELECT to_regclass('more') AS more, max(version) AS v FROM jq_schema_migrations");
    expect(rows[0]).toEqual({ more: null, v: 900 });
  });

  it("rolls back a failing migration whole, recording nothing", async () => {
    const db = await fresh();
    const dir = join(scratch, "failing");
    await cp(MIGRATIONS_DIR, dir, { recursive: true, filter: (src) => !src.includes("snapshot") });
    await writeFile(join(dir, "0900_broken.sql"), "CREATE TABLE half (id int);\nCREATE TABLE half (id int);\n");
    await expect(migrate(db.pool, await loadMigrations(dir))).rejects.toThrow(/migration 900 broken failed: relation "half" already exists/);
    const { rows } = await db.pool.query("SELECT to_regclass('half') AS half, max(version) AS v FROM jq_schema_migrations");
    expect(rows[0]).toEqual({ half: null, v: (await loadMigrations(MIGRATIONS_DIR)).at(-1)!.version });
  });
});
