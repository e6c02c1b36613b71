import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The time limit of a test that runs jqctl: each run is a Node process start (about 0.3 s of CPU
 * to load the client), and a test runs 10-25 of them, one after the other. On a 2-core machine
 * under load a start takes 5-10 s of wall time, so the suite's 60 s default stopped such tests
 * midway; the limit is a safety net, not a bound anything promises.
 */
export const CLI_TEST_TIMEOUT_MS = 300_000;

/** The built jqctl (the package's `bin`), as `npx jqctl` runs it. */
export const CLI_ENTRY = fileURLToPath(new URL("../../dist/apps/cli/main.js", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRun {
  readonly child: ReturnType<typeof spawn>;
  /** Resolves when the process ends. */
  readonly done: Promise<CliResult>;
  /** Everything printed on stdout so far. */
  stdout(): string;
}

/**
 * Starts jqctl as a child process with `args`, an optional stdin text (otherwise stdin is
 * closed at once, as in a script) and extra environment variables (nothing else of the test
 * runner's JQ_* settings leaks in).
 */
export function startCli(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): CliRun {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdin.end(options.input ?? "");
  const done = new Promise<CliResult>((resolve) =>
    child.once("close", (code, signal) => resolve({ code: code ?? (signal === "SIGINT" ? 130 : -1), stdout, stderr })),
  );
  return { child, done, stdout: () => stdout };
}

/** Runs jqctl to the end. */
export function cli(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Runs jqctl with `--json` against `address`, expects exit 0 and returns the parsed document. */
export async function cliJson<T = Record<string, unknown>>(address: string, args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<T> {
  const res = await cli(["--address", address, "--json", ...args], options);
  if (res.code !== 0) throw new Error(`jqctl ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
}
