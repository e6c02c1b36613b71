import pg from "pg";
import { startLocalPostgres } from "../../test/bed/postgres.js";
import { parentPidOf } from "./cpu-time.js";

// The bench's Postgres: the test bed's local server alone (no Redis or Kafka, whose start would
// cost seconds of a small machine and add noise), with a fresh database for jq. The server is
// deleted with its data on stop, so nothing of a run survives it.

export interface BenchPostgres {
  /** Superuser URL of the fresh database. */
  readonly databaseUrl: string;
  /** The postmaster, whose family of processes is Postgres' whole CPU use. */
  readonly postmasterPid: number;
  /** Stops the server and removes its data; safe to call twice. */
  stop(): Promise<void>;
}

export interface BenchPostgresOptions {
  /**
   * Libraries to preload (e.g. pg_stat_statements, which the test bed's settings do not load):
   * set with ALTER SYSTEM, then the server is restarted once on the same data.
   */
  readonly sharedPreloadLibraries?: readonly string[];
}

const DATABASE = "jq_bench";

/** Runs `work` on a superuser connection to `url`. */
async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

// Read while connected: the backend exits with the connection.
const postmasterOf = (client: pg.Client) =>
  client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid").then(({ rows }) => parentPidOf(rows[0]!.pid));

export async function startBenchPostgres(options: BenchPostgresOptions = {}): Promise<BenchPostgres> {
  const server = await startLocalPostgres();
  try {
    let postmasterPid = await withClient(server.endpoint, async (client) => {
      await client.query(`CREATE DATABASE ${DATABASE}`);
      return postmasterOf(client);
    });
    const preload = options.sharedPreloadLibraries ?? [];
    if (preload.length > 0) {
      await withClient(server.endpoint, (client) => client.query(`ALTER SYSTEM SET shared_preload_libraries = ${pg.escapeLiteral(preload.join(","))}`));
      await server.stopServer();
      await server.startServer();
      postmasterPid = await withClient(server.endpoint, postmasterOf);
    }
    const url = new URL(server.endpoint);
    url.pathname = `/${DATABASE}`;
    return { databaseUrl: url.toString(), postmasterPid, stop: server.stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
