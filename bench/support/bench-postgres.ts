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

const DATABASE = "jq_bench";

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const server = await startLocalPostgres();
  try {
    const client = new pg.Client({ connectionString: server.endpoint });
    await client.connect();
    let postmasterPid: number;
    try {
      await client.query(`CREATE DATABASE ${DATABASE}`);
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // Read while connected: the backend exits with the connection.
      postmasterPid = parentPidOf(rows[0]!.pid);
    } finally {
      await client.end();
    }
    const url = new URL(server.endpoint);
    url.pathname = `/${DATABASE}`;
    return { databaseUrl: url.toString(), postmasterPid, stop: server.stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
