import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, Vitest } from "vitest/node";
import { countTests, formatClosingLine, type TestCounts } from "./test-counts.js";

// Prints `tests: N passed, N failed, N skipped` alone on the last line of a run; CI parses it.
//
// "Last" is why it is printed when the process exits rather than in onTestRunEnd: vitest runs
// the global teardown (stopping the test bed) and reports teardown errors after onTestRunEnd,
// and an interrupted run (Ctrl-C, SIGTERM) exits without finishing the run at all. An exit with
// a failing code but no failure counted (a global setup that threw, a teardown error) shows
// one failed test. An interrupted run shows the tests finished so far. In watch mode, where the
// process outlives many runs, each run ends with the line instead.

export default class ClosingLineReporter implements Reporter {
  private counts: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  private watching = false;

  onInit(vitest: Vitest): void {
    this.watching = vitest.config.watch;
    if (!this.watching) process.once("exit", (code) => this.printAtExit(code));
  }

  onTestRunStart(): void {
    this.counts = { passed: 0, failed: 0, skipped: 0 };
  }

  // Running totals, for a run that is interrupted before onTestRunEnd.
  onTestCaseResult(test: TestCase): void {
    const state = test.result().state;
    if (state !== "pending") this.counts[state] += 1;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    this.counts = countTests(modules, unhandledErrors.length, reason);
    if (this.watching) process.stdout.write(`${formatClosingLine(this.counts)}\n`);
  }

  private printAtExit(code: number): void {
    const exitCode = code !== 0 ? code : Number(process.exitCode ?? 0);
    const failed = exitCode !== 0 && this.counts.failed === 0 ? 1 : this.counts.failed;
    // Synchronous on files and pipes, which is what CI captures.
    process.stdout.write(`${formatClosingLine({ ...this.counts, failed })}\n`);
  }
}
