import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { findFreePort } from "./free-port.js";
import { createScratchDir } from "./scratch-dir.js";
import { runToCompletion, startServiceProcess, type ServiceProcess } from "./service-process.js";
import { stopOnlyOnce, type StartedService } from "./started-service.js";
import { unprivilegedUserForPostgres } from "./unprivileged-user.js";
import { waitUntil } from "./wait-until.js";

// A throwaway local Postgres: initdb into a scratch dir, then the postmaster itself as our child
// (not pg_ctl, which would detach it from us). Durability is switched off because the data dies
// with the run; max_connections is high because every test file opens its own pools.

const SERVER_SETTINGS: Record<string, string> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  max_connections: "300",
  jit: "off",
  timezone: "UTC",
  log_timezone: "UTC",
};

/**
 * Postgres' own durable defaults, for a server whose figures must include the cost of durable
 * commits (the bench): every commit flushed to disk, full pages after a checkpoint, and the
 * shared_buffers a production server would have.
 */
export const DURABLE_SETTINGS: Readonly<Record<string, string>> = {
  fsync: "on",
  synchronous_commit: "on",
  full_page_writes: "on",
  shared_buffers: "1GB",
};

export interface LocalPostgresOptions {
  /** Server settings laid over the test defaults above (e.g. DURABLE_SETTINGS). */
  readonly settings?: Readonly<Record<string, string>>;
}

/** Finds a directory holding both `initdb` and `postgres`, newest Debian cluster version first. */
export function findPostgresBinDir(): string {
  const debianRoot = "/usr/lib/postgresql";
  const debianDirs = fs.existsSync(debianRoot)
    ? fs
        .readdirSync(debianRoot)
        .filter((version) => /^\d+$/.test(version))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => path.join(debianRoot, version, "bin"))
    : [];
  const pathDirs = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "");
  const found = [...debianDirs, ...pathDirs].find((dir) =>
    ["initdb", "postgres"].every((binary) => isExecutable(path.join(dir, binary))),
  );
  if (found === undefined) {
    throw new Error("no Postgres server binaries (initdb, postgres) found; run scripts/services/install.sh");
  }
  return found;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function canQuery(port: number): Promise<void> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres", connectionTimeoutMillis: 1000 });
  client.on("error", () => {
    // A server still starting may drop us; the next probe retries.
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A local Postgres whose server process can be stopped and started again on the same data and port. */
export interface LocalPostgres extends StartedService<string> {
  /** Stops the server (fast shutdown), keeping its data; clients get connection refused. */
  stopServer(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers queries. */
  startServer(): Promise<void>;
}

export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const binDir = findPostgresBinDir();
  const scratch = await createScratchDir("postgres");
  let server: ServiceProcess | undefined;
  const stop = stopOnlyOnce(async () => {
    await server?.stop("SIGINT", 10_000);
    await scratch.remove();
  });
  try {
    const user = unprivilegedUserForPostgres();
    if (user !== undefined) fs.chownSync(scratch.path, user.uid, user.gid);
    const dataDir = path.join(scratch.path, "data");
    const logFile = path.join(scratch.path, "postgres.log");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch.path, LANG: "C", LC_ALL: "C" };
    const common = { cwd: scratch.path, logFile, env, user, scratchDir: scratch.path };

    await runToCompletion({
      ...common,
      command: path.join(binDir, "initdb"),
      args: ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
      timeoutMs: 60_000,
    });

    const port = await findFreePort();
    const settings = Object.entries({ ...SERVER_SETTINGS, ...options.settings }).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
    const startServer = async () => {
      const started = await startServiceProcess({
        ...common,
        command: path.join(binDir, "postgres"),
        args: ["-D", dataDir, "-p", String(port), "-h", "127.0.0.1", "-k", scratch.path, ...settings],
      });
      server = started;
      await waitUntil(() => canQuery(port), {
        what: "postgres",
        timeoutMs: 60_000,
        gaveUp: () => started.deathReport(),
      });
    };
    await startServer();
    return {
      endpoint: `postgres://postgres@127.0.0.1:${port}/postgres`,
      where: `127.0.0.1:${port} (pid ${server!.pid}${user === undefined ? "" : `, as ${user.name}`})`,
      stop,
      async stopServer() {
        await server?.stop("SIGINT", 10_000);
        server = undefined;
      },
      startServer,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
