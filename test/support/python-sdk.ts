import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** The repository root (this file is test/support/python-sdk.ts). */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Where the pytest run writes its JUnit XML; the closing-line reporter adds its counts. */
export const pytestJunitPath = fileURLToPath(new URL("../../test-results/python-sdk.junit.xml", import.meta.url));

/** The virtualenv with the SDK and pytest (scripts/python/ensure-venv.sh creates or refreshes it). */
export async function ensurePythonVenv(): Promise<string> {
  const script = fileURLToPath(new URL("../../scripts/python/ensure-venv.sh", import.meta.url));
  const { stdout } = await promisify(execFile)("bash", [script], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export interface PytestRun {
  code: number | null;
  output: string;
}

/** Runs `python -m pytest args` in sdk/python with `env` added; resolves when it exits. */
export function runPytest(venv: string, args: string[], env: Record<string, string>): Promise<PytestRun> {
  const child = spawn(`${venv}/bin/python`, ["-m", "pytest", ...args], {
    cwd: `${repoRoot}sdk/python`,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PYTHONUNBUFFERED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, output })));
}
