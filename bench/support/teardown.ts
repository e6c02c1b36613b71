import { killEverythingNow } from "../../test/bed/emergency-cleanup.js";

// Everything the bench starts is registered here as it starts and stopped in reverse order at
// the end, on an error, or on Ctrl-C / SIGTERM. A second signal stops waiting: each step's
// `killNow` runs, the test bed's emergency cleanup SIGKILLs Postgres and removes its data, and the
// process exits. A second signal less than a second after the first is not a second Ctrl-C: tsx
// relays the terminal's signal to its child again when the child was slow to acknowledge it (it
// allows 30 ms, which a busy machine often misses), and that copy must not cut the teardown short.

/** Signals this soon after the first are the same interruption, relayed again. */
const DUPLICATE_SIGNAL_MS = 1_000;

export class Teardown {
  private readonly steps: { readonly name: string; readonly stop: () => Promise<unknown>; readonly killNow?: () => void }[] = [];
  private running: Promise<void> | undefined;
  private readonly began = new AbortController();

  /** Aborted as soon as the teardown begins, so work in progress stops starting new calls. */
  get signal(): AbortSignal {
    return this.began.signal;
  }

  /** Registers something started; if the teardown already began (a signal came while it started), stops it at once. */
  add(name: string, stop: () => Promise<unknown>, killNow?: () => void): void {
    this.steps.push({ name, stop, ...(killNow === undefined ? {} : { killNow }) });
    if (this.running !== undefined) void stop().catch(() => undefined);
  }

  /** Stops everything registered, last first; safe to call twice. Failures are reported, not thrown. */
  run(): Promise<void> {
    return (this.running ??= (async () => {
      this.began.abort(new Error("interrupted"));
      for (const step of [...this.steps].reverse()) {
        try {
          await step.stop();
        } catch (error) {
          process.stderr.write(`bench: stopping ${step.name} failed: ${String(error)}\n`);
        }
      }
    })());
  }

  /** Runs the teardown on SIGINT/SIGTERM, then exits 130; returns a function removing the handlers. */
  runOnSignals(): () => void {
    let interruptedAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (interruptedAt !== undefined && performance.now() - interruptedAt < DUPLICATE_SIGNAL_MS) return;
      if (interruptedAt !== undefined) {
        for (const step of this.steps) step.killNow?.();
        killEverythingNow();
        process.exit(130);
      }
      interruptedAt = performance.now();
      process.stderr.write(`\nbench: ${signal}, stopping what it started (again to kill)\n`);
      void this.run().then(() => process.exit(130));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    return () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
  }
}

/**
 * Runs a bench's `main` with a teardown that also runs on Ctrl-C / SIGTERM, and sets the exit code:
 * main's own, 2 for a UsageError (with `usage`), 130 when interrupted, 1 for anything else.
 */
export function runBench(main: (teardown: Teardown) => Promise<number>, usage: string, isUsageError: (error: unknown) => boolean): void {
  const teardown = new Teardown();
  const removeSignalHandlers = teardown.runOnSignals();
  main(teardown)
    .catch((error: unknown) => {
      if (teardown.signal.aborted) return 130; // Interrupted: the signal handler has said so.
      if (isUsageError(error)) return void process.stderr.write(`bench: ${(error as Error).message}\n${usage}`), 2;
      process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      return 1;
    })
    .then(async (code) => {
      await teardown.run();
      removeSignalHandlers();
      process.exitCode = code;
    });
}
