import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

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
