import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

// Each createTestDatabase() is its own database on the bed's server: what one test creates,
// another does not see, and drop() really removes it.
describe("test bed postgres", () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((db) => db.drop()));
  });

  async function tableExists(pool: pg.Pool, table: string): Promise<boolean> {
    const { rows } = await pool.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [table]);
    return rows[0]?.exists ?? false;
  }

  it("gives each caller an isolated database", async () => {
    const [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    databases.push(first, second);
    expect(first.name).not.toBe(second.name);

    await first.pool.query("CREATE TABLE only_in_first (id int PRIMARY KEY)");
    await first.pool.query("INSERT INTO only_in_first VALUES (1)");

    expect(await tableExists(first.pool, "only_in_first")).toBe(true);
    expect(await tableExists(second.pool, "only_in_first")).toBe(false);
    const { rows } = await first.pool.query<{ db: string }>("SELECT current_database() AS db");
    expect(rows).toEqual([{ db: first.name }]);
  });

  it("drops the database, even with other connections open, and drop() can be repeated", async () => {
    const db = await createTestDatabase();
    // A connection the test forgot: drop must not wait for it.
    const straggler = new pg.Client({ connectionString: db.url });
    straggler.on("error", () => undefined);
    await straggler.connect();

    await db.drop();
    await db.drop();
    await straggler.end().catch(() => undefined);

    const admin = await createTestDatabase();
    databases.push(admin);
    const { rows } = await admin.pool.query("SELECT 1 FROM pg_database WHERE datname = $1", [db.name]);
    expect(rows).toEqual([]);
  });
});
