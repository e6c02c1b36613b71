import pg from "pg";
import { startBenchApi, type BenchApi } from "./bench-api.js";
import type { BenchOptions } from "./bench-options.js";
import { startBenchPostgres, type BenchPostgres } from "./bench-postgres.js";
import { startEchoServer, type EchoServer } from "./grpc-echo.js";
import { createBaselineTable } from "./pg-baseline.js";
import type { Teardown } from "./teardown.js";

// Everything a run talks to, started in order and registered with the teardown as each piece
// comes up, so an error or Ctrl-C at any point stops exactly what was started.

export const BENCH_QUEUE = "bench.submit";
/** application_name of each client's Postgres connections; apps/api's comes from libs/postgres. */
export const APPLICATION_NAMES = { api: "jq-api", baseline: "jq-bench-baseline", sampler: "jq-bench-sampler" } as const;

export interface BenchEnvironment {
  readonly postgres: BenchPostgres;
  readonly api: BenchApi;
  /** The baseline's pool, as large as apps/api's. */
  readonly pool: pg.Pool;
  /** A connection of its own for sampling pg_stat_activity. */
  readonly samplerConnection: pg.Client;
  readonly echo: EchoServer;
}

export async function startBenchEnvironment(options: BenchOptions, teardown: Teardown): Promise<BenchEnvironment> {
  const postgres = await startBenchPostgres();
  teardown.add("postgres", postgres.stop);
  const maxBatchSize = Math.max(1000, options.batchSize);
  const api = await startBenchApi({ databaseUrl: postgres.databaseUrl, poolMax: options.poolMax, maxBatchSize });
  teardown.add("apps/api", api.stop, api.killNow);

  const pool = new pg.Pool({ connectionString: postgres.databaseUrl, max: options.poolMax, application_name: APPLICATION_NAMES.baseline });
  // An idle connection Postgres drops at teardown must not crash the bench; a query still fails.
  pool.on("error", () => undefined);
  teardown.add("baseline pool", () => pool.end());
  const samplerConnection = new pg.Client({ connectionString: postgres.databaseUrl, application_name: APPLICATION_NAMES.sampler });
  samplerConnection.on("error", () => undefined);
  await samplerConnection.connect();
  teardown.add("sampler connection", () => samplerConnection.end());

  const echo = await startEchoServer();
  teardown.add("echo server", echo.stop);

  await api.client.call(api.client.admin, "createQueue", { name: BENCH_QUEUE, paused: false });
  await createBaselineTable(pool);
  return { postgres, api, pool, samplerConnection, echo };
}
