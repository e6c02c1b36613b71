import pg from "pg";
import { inject } from "vitest";
import { uniqueTestName } from "./unique-name.js";

// A fresh database per caller on the test bed's Postgres server: tests never share tables, and
// a test file can create several (one per test that needs a clean slate). Dropping is the
// caller's job, in afterAll/afterEach; the leak check fails a file that forgets the pool.

export interface TestDatabase {
  /** `jq_t_<random>` */
  readonly name: string;
  /** Superuser URL to this database, for code under test (JQ_DATABASE_URL) and extra pools. */
  readonly url: string;
  /** A pool on this database for the test itself. */
  readonly pool: pg.Pool;
  /** Ends the pool, disconnects everyone else and drops the database; safe to call twice. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Size of `pool`; pg's default is 10. */
  poolMax?: number;
}

async function asSuperuser<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject("testBed").databaseUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

function urlOfDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = uniqueTestName();
  // Names come from uniqueTestName (lower case, digits, underscores): safe to quote and inline,
  // which DDL requires since it takes no bound parameters.
  await asSuperuser((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = urlOfDatabase(inject("testBed").databaseUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: options.poolMax ?? 10 });
  let dropping: Promise<void> | undefined;
  const drop = async (): Promise<void> => {
    // The test may have ended the pool itself (to check a shutdown, say); ending twice throws.
    if (!pool.ending) await pool.end();
    await asSuperuser(async (client) => {
      // pg-pool's end() resolves before its clients' sockets close. Terminating those backends
      // would make the closing clients emit an error nobody listens to (an uncaught exception in
      // the test), so wait for them to leave; FORCE (Postgres 13+) then removes whatever is left,
      // such as connections of processes under test.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name]);
        if (rows[0]!.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
  };
  return { name, url, pool, drop: () => (dropping ??= drop()) };
}
