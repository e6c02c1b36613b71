import fs from "node:fs";

// Last line of defence against orphans. Every service runs in its own process group (so a Ctrl-C
// in the terminal reaches only the test runner, which then stops the services in order); the
// price is that nothing kills those groups for us when the runner dies without running its
// teardown. So every group and scratch directory is tracked here and, when this process exits
// (normally, through process.exit() or by a signal we handle), killed and removed synchronously:
// an `exit` listener cannot wait for a graceful shutdown. A SIGKILLed runner is covered by the
// per-process watchdog in service-process.ts.

const processGroups = new Set<number>();
const scratchDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", killEverythingNow);
}

export function trackProcessGroup(leaderPid: number): void {
  installExitHook();
  processGroups.add(leaderPid);
}

export function untrackProcessGroup(leaderPid: number): void {
  processGroups.delete(leaderPid);
}

export function trackScratchDir(dir: string): void {
  installExitHook();
  scratchDirs.add(dir);
}

export function untrackScratchDir(dir: string): void {
  scratchDirs.delete(dir);
}

/** SIGKILLs every tracked process group and removes every tracked scratch directory, now. */
export function killEverythingNow(): void {
  for (const pid of processGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  processGroups.clear();
  for (const dir of scratchDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort; the OS temp dir is cleaned eventually.
    }
  }
  scratchDirs.clear();
}

/**
 * Kills everything when SIGINT or SIGTERM arrives. The listener goes first (vitest's own exits
 * the process a millisecond later, without running teardowns); when no one else listens, the
 * signal is raised again so the process still dies by it, since any listener disables Node's
 * default exit.
 */
export function killEverythingOnSignals(): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    killEverythingNow();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.prependOnceListener("SIGINT", onSignal);
  process.prependOnceListener("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
