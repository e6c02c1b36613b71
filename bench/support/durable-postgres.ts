import path from "node:path";
import fs from "node:fs";
import pg from "pg";
import { findFreePort } from "../../test/bed/free-port.js";
import { findPostgresBinDir } from "../../test/bed/postgres.js";
import { createScratchDir } from "../../test/bed/scratch-dir.js";
import { runToCompletion, startServiceProcess, type ServiceProcess } from "../../test/bed/service-process.js";
import { unprivilegedUserForPostgres } from "../../test/bed/unprivileged-user.js";
import { waitUntil } from "../../test/bed/wait-until.js";

// A throwaway local Postgres with production durability: unlike the test bed's server (fsync,
// synchronous_commit and full_page_writes off), every commit waits for its WAL flush here, so a
// bench of workers sees what a real deployment pays per result. Data is removed on stop.

const DURABLE_SETTINGS: Record<string, string> = {
  fsync: "on",
  synchronous_commit: "on",
  full_page_writes: "on",
  max_connections: "100",
  jit: "off",
  timezone: "UTC",
};

export interface DurablePostgres {
  /** Superuser URL of the fresh database `jq_bench`. */
  readonly databaseUrl: string;
  stop(): Promise<void>;
}

export async function startDurablePostgres(): Promise<DurablePostgres> {
  const binDir = findPostgresBinDir();
  const scratch = await createScratchDir("postgres-durable");
  let server: ServiceProcess | undefined;
  const stop = async () => {
    await server?.stop("SIGINT", 10_000);
    server = undefined;
    await scratch.remove();
  };
  try {
    const user = unprivilegedUserForPostgres();
    if (user !== undefined) fs.chownSync(scratch.path, user.uid, user.gid);
    const dataDir = path.join(scratch.path, "data");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch.path, LANG: "C", LC_ALL: "C" };
    const common = { cwd: scratch.path, logFile: path.join(scratch.path, "postgres.log"), env, user, scratchDir: scratch.path };
    await runToCompletion({ ...common, command: path.join(binDir, "initdb"), args: ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"], timeoutMs: 60_000 });
    const port = await findFreePort();
    const settings = Object.entries(DURABLE_SETTINGS).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
    server = await startServiceProcess({ ...common, command: path.join(binDir, "postgres"), args: ["-D", dataDir, "-p", String(port), "-h", "127.0.0.1", "-k", scratch.path, ...settings] });
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitUntil(
      async () => {
        const client = new pg.Client({ connectionString: admin });
        client.on("error", () => undefined);
        await client.connect();
        await client.query("CREATE DATABASE jq_bench");
        await client.end();
      },
      { what: "durable postgres", timeoutMs: 60_000 },
    );
    return { databaseUrl: `postgres://postgres@127.0.0.1:${port}/jq_bench`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
