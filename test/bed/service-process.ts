import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { once } from "node:events";
import { trackProcessGroup, untrackProcessGroup } from "./emergency-cleanup.js";
import { withinDeadline } from "./wait-until.js";

// Runs the test bed's servers (postgres, redis-server, the Kafka JVM) as child processes that
// the bed alone controls: each in its own process group so a terminal's Ctrl-C does not race our
// orderly shutdown, with output appended to a log file in the service's scratch directory so a
// failed start can show why.

export interface ServiceProcessOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (only possible when we are root; Postgres refuses to run as root). */
  user?: { uid: number; gid: number } | undefined;
  /** Removed by the watchdog if this process dies without stopping the service. */
  scratchDir?: string;
}

export interface ServiceProcess {
  readonly pid: number;
  /** Why the process is gone (exit code or signal), or undefined while it runs. */
  exitReason(): string | undefined;
  /** The exit reason and the log's tail once the process is gone, for a readiness wait to give up with. */
  deathReport(): string | undefined;
  /** Resolves with the exit reason once the process is gone. */
  whenExited(): Promise<string>;
  /** The last lines of the log file, to put in an error message. */
  logTail(lines?: number): string;
  /**
   * Sends `signal` to the process, waits up to `graceMs` for it to exit, then SIGKILLs its whole
   * process group. Safe to call twice and after the process has exited on its own.
   */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

// Kills the service's process group and removes its scratch dir when the parent (this Node
// process) disappears without doing it, e.g. when it is SIGKILLed. Exits on its own once the
// service is gone, and stop() ends it at once. Polling once a second is cheap and needs nothing
// beyond a POSIX shell. Its inputs travel in the environment, not on the command line, so
// `pgrep -f postgres` and friends only ever find the services themselves.
const WATCHDOG_SCRIPT = `
while kill -0 "$JQ_WATCHDOG_PARENT" 2>/dev/null; do
  kill -0 "$JQ_WATCHDOG_LEADER" 2>/dev/null || exit 0
  sleep 1
done
kill -KILL -"$JQ_WATCHDOG_LEADER" 2>/dev/null
if [ -n "$JQ_WATCHDOG_DIR" ]; then rm -rf "$JQ_WATCHDOG_DIR"; fi
`;

function startWatchdog(leaderPid: number, scratchDir: string | undefined): ChildProcess {
  const watchdog = spawn("sh", ["-c", WATCHDOG_SCRIPT, "jq-testbed-watchdog"], {
    detached: true,
    stdio: "ignore",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      JQ_WATCHDOG_PARENT: String(process.pid),
      JQ_WATCHDOG_LEADER: String(leaderPid),
      JQ_WATCHDOG_DIR: scratchDir ?? "",
    },
  });
  watchdog.on("error", () => {
    // No shell: the exit hook in emergency-cleanup.ts still covers ordinary exits.
  });
  watchdog.unref();
  return watchdog;
}

function readLogTail(logFile: string, lines: number): string {
  try {
    return fs.readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${String(code)}` : `killed by ${signal}`;
}

function spawnInOwnGroup(options: ServiceProcessOptions): ChildProcess {
  const logFd = fs.openSync(options.logFile, "a");
  try {
    return spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ["ignore", logFd, logFd],
      ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
    });
  } finally {
    // The child holds its own copy of the descriptor.
    fs.closeSync(logFd);
  }
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const child = spawnInOwnGroup(options);
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitReason = describeExit(code, signal);
      resolve();
    });
    child.once("error", (error) => {
      exitReason ??= `failed to start: ${error.message}`;
      resolve();
    });
  });
  // `spawn` reports a missing binary asynchronously; wait for either outcome.
  await Promise.race([once(child, "spawn").catch(() => undefined), exited]);
  const pid = child.pid;
  if (pid === undefined || exitReason !== undefined) {
    throw new Error(`${options.command} ${exitReason ?? "did not start"}\n${readLogTail(options.logFile, 20)}`);
  }
  trackProcessGroup(pid);
  const watchdog = startWatchdog(pid, options.scratchDir);

  let stopping: Promise<void> | undefined;
  const killGroup = (): void => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // The group is already empty.
    }
  };
  const stop = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (exitReason === undefined) {
      try {
        child.kill(signal);
      } catch {
        // Exited in the meantime.
      }
      const exitedInTime = await withinDeadline(exited.then(() => true), graceMs);
      if (exitedInTime === undefined) killGroup();
      await exited;
    }
    // The leader is gone; make sure nothing it started outlives it.
    killGroup();
    untrackProcessGroup(pid);
    watchdog.kill("SIGKILL");
  };

  return {
    pid,
    exitReason: () => exitReason,
    whenExited: () => exited.then(() => exitReason ?? "exited"),
    logTail: (lines = 30) => readLogTail(options.logFile, lines),
    deathReport: () => (exitReason === undefined ? undefined : `${exitReason}\n${readLogTail(options.logFile, 30)}`),
    stop: (signal, graceMs) => (stopping ??= stop(signal, graceMs)),
  };
}

/** Runs a one-shot command (initdb, Kafka's storage format) and throws with its log on failure. */
export async function runToCompletion(options: ServiceProcessOptions & { timeoutMs: number }): Promise<void> {
  const started = await startServiceProcess(options);
  const reason = await withinDeadline(started.whenExited(), options.timeoutMs);
  await started.stop("SIGKILL", 0);
  if (reason === undefined) {
    throw new Error(`${options.command} did not finish within ${options.timeoutMs} ms\n${started.logTail()}`);
  }
  if (reason !== "exited with code 0") throw new Error(`${options.command} ${reason}\n${started.logTail()}`);
}
