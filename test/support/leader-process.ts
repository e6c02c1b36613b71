import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LeaderNodeSpec } from "./leader-node.js";

export type { LeaderNodeSpec } from "./leader-node.js";

export interface LeaderNodeLine {
  readonly event: "started" | "elected" | "demoted" | "acted";
  readonly term?: string;
  readonly reason?: string;
  /** The child's wall clock (Date.now()) when it printed the line; for "acted", when it decided to act. */
  readonly at: number;
}

export interface LeaderNodeProcess {
  readonly child: ChildProcess;
  readonly lines: LeaderNodeLine[];
  /** Resolves with the first line (already printed or to come) that matches. */
  waitFor(match: (line: LeaderNodeLine) => boolean, what: string, timeoutMs?: number): Promise<LeaderNodeLine>;
  signal(signal: NodeJS.Signals): void;
  /** SIGCONT (in case it is stopped), SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  exited(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL("../../dist/test/support/leader-node.js", import.meta.url));

/** Starts test/support/leader-node.ts (built into dist/ by `tsc` before the run). */
export function startLeaderNode(spec: LeaderNodeSpec): LeaderNodeProcess {
  const child = spawn(process.execPath, [ENTRY, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: LeaderNodeLine[] = [];
  const waiters = new Set<(line: LeaderNodeLine) => void>();
  let stderr = "";
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffered.slice(0, nl)) as LeaderNodeLine;
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const waiter of waiters) waiter(line);
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedAlready = false;
  void exit.then(() => (exitedAlready = true));

  return {
    child,
    lines,
    waitFor(match, what, timeoutMs = 10_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise<LeaderNodeLine>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const waiter = (line: LeaderNodeLine): void => {
          if (!match(line)) return;
          done();
          resolve(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`leader node ${spec.nodeId}: no ${what} within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exit.then(() => {
          if (!waiters.has(waiter)) return;
          done();
          reject(new Error(`leader node ${spec.nodeId} exited before ${what}; stderr: ${stderr}`));
        });
      });
    },
    signal(signal) {
      child.kill(signal);
    },
    async kill() {
      if (!exitedAlready) {
        child.kill("SIGCONT");
        child.kill("SIGKILL");
      }
      await exit;
    },
    exited: () => exit,
  };
}
