import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readJsonLines } from "./json-lines.js";

/** The built entry point of an app (npm test builds dist/ before vitest runs). */
/**
 * How long a test waits for a process it started to say it is ready: a deadline, not a bound. A
 * start loads the whole app (about a second of CPU); on a 2-core machine under load (stress-ng
 * plus other suites, load average 20-27) that took over 30 s, the old limit, in 3 files of a run.
 */
export const PROCESS_START_TIMEOUT_MS = 90_000;

export function appEntry(app: "api" | "scheduler" | "health"): string {
  return fileURLToPath(new URL(`../../dist/apps/${app}/main.js`, import.meta.url));
}

export interface AppProcess {
  readonly child: ChildProcess;
  /** Every JSON log line the process wrote so far. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the probe port once the process logged "ready"; rejects if it exits first. */
  ready(timeoutMs?: number): Promise<number>;
  /** The gRPC port apps/api logged when it started listening. */
  grpcPort(): number;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited(): Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * Runs a real jq process (node dist/apps/<app>/main.js) with only the given JQ_* variables, so a
 * test sees exactly what an operator would: exit codes, JSON log lines, probe answers.
 */
export function startApp(app: "api" | "scheduler" | "health", env: Record<string, string>, args: string[] = []): AppProcess {
  const child = spawn(process.execPath, [appEntry(app), ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      JQ_HTTP_HOST: "127.0.0.1",
      JQ_GRPC_HOST: "127.0.0.1",
      // Free ports by default, so test files running at once never collide.
      JQ_GRPC_PORT: "0",
      [`JQ_${app.toUpperCase()}_HTTP_PORT`]: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let err = "";
  const readyWaiters: ((line: Record<string, unknown>) => void)[] = [];
  readJsonLines(child.stdout!, (line) => {
    logs.push(line);
    if (line.msg === "ready") readyWaiters.splice(0).forEach((w) => w(line));
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exit = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );

  return {
    child,
    logs,
    stderr: () => err,
    exited: () => exit,
    grpcPort() {
      const line = logs.find((l) => typeof l.grpcPort === "number");
      if (!line) throw new Error(`${app} has not logged a gRPC port`);
      return line.grpcPort as number;
    },
    ready(timeoutMs = PROCESS_START_TIMEOUT_MS) {
      const already = logs.find((l) => l.msg === "ready");
      if (already) return Promise.resolve(already.httpPort as number);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${app} not ready after ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        readyWaiters.push((line) => {
          clearTimeout(timer);
          resolve(line.httpPort as number);
        });
        void exit.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${app} exited (${code}) before it was ready; stderr: ${err}; logs: ${JSON.stringify(logs.slice(-5))}`));
        });
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
