import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readJsonLines } from "./json-lines.js";
import { PROCESS_START_TIMEOUT_MS } from "./app-process.js";

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the worker id once the SDK registered and opened its stream. */
  ready(timeoutMs?: number): Promise<string>;
  /** Jobs this process started (job id, attempt). */
  started(): { job: string; attempt: number }[];
  done(): { job: string; attempt: number }[];
  exited(): Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/** Runs test/fixtures/worker-process.ts (from dist/) as a separate OS process. */
export function startWorkerProcess(options: {
  address: string;
  queues: string[];
  concurrency: number;
  jobMs?: number;
  closeTimeoutMs?: number;
}): WorkerProcess {
  const entry = fileURLToPath(new URL("../../dist/test/fixtures/worker-process.js", import.meta.url));
  const child = spawn(process.execPath, [entry], {
    env: {
      PATH: process.env.PATH ?? "",
      JQ_FIXTURE_ADDRESS: options.address,
      JQ_FIXTURE_QUEUES: options.queues.join(","),
      JQ_FIXTURE_CONCURRENCY: String(options.concurrency),
      JQ_FIXTURE_JOB_MS: String(options.jobMs ?? 0),
      JQ_FIXTURE_CLOSE_TIMEOUT_MS: String(options.closeTimeoutMs ?? 30_000),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  readJsonLines(child.stdout!, (line) => lines.push(line));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exit = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const pick = (event: string) => lines.filter((l) => l.event === event).map((l) => ({ job: l.job as string, attempt: l.attempt as number }));
  return {
    child,
    lines,
    async ready(timeoutMs = PROCESS_START_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = lines.find((l) => l.event === "ready");
        if (line) return line.id as string;
        if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}): ${stderr}`);
        if (Date.now() > deadline) throw new Error(`worker not ready after ${timeoutMs} ms: ${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    started: () => pick("start"),
    done: () => pick("done"),
    exited: () => exit,
    kill: (signal) => child.kill(signal),
  };
}
