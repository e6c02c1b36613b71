import { BenchUsageError } from "./bench-options.js";
import { Teardown } from "./teardown.js";

/**
 * The life every benchmark script shares: run `body` with a Teardown that cleans up on exit and on
 * Ctrl-C, and turn its outcome into the exit code (0 verified, 1 failed or unverified, 2 bad
 * flags, 130 interrupted).
 */
export function runBenchMain(body: (teardown: Teardown) => Promise<number>, usage: string): void {
  const main = async (): Promise<number> => {
    const teardown = new Teardown();
    const removeSignalHandlers = teardown.runOnSignals();
    try {
      return await body(teardown);
    } catch (error) {
      if (teardown.signal.aborted) return 130; // Interrupted: the signal handler has said so.
      throw error;
    } finally {
      await teardown.run();
      removeSignalHandlers();
    }
  };
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      if (error instanceof BenchUsageError) {
        process.stderr.write(`bench: ${error.message}\n${usage}`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
