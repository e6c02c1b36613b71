import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, Vitest } from "vitest/node";
import { fileURLToPath } from "node:url";
import { addCounts, forgetPytestReport, readPytestCounts } from "./pytest-counts.js";
import { countTests, formatClosingLine, type TestCounts } from "./test-counts.js";

// Prints `tests: N passed, N failed, N skipped` alone on the last line of a run; CI parses it.
//
// "Last" is why it is printed when the process exits rather than in onTestRunEnd: vitest runs
// the global teardown (stopping the test bed) and reports teardown errors after onTestRunEnd,
// and an interrupted run (Ctrl-C, SIGTERM) exits without finishing the run at all. An exit with
// a failing code but no failure counted (a global setup that threw, a teardown error) shows
// one failed test. An interrupted run shows the tests finished so far. In watch mode, where the
// process outlives many runs, each run ends with the line instead.
//
// The pytest tests of the Python SDK (run by one vitest test, test/integration/python-sdk.test.ts)
// are added from the JUnit XML that run wrote (pytest-counts.ts); a report left by an earlier run
// is removed first.
const PYTEST_REPORT = fileURLToPath(new URL("../../test-results/python-sdk.junit.xml", import.meta.url));

export default class ClosingLineReporter implements Reporter {
  private counts: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  private watching = false;

  onInit(vitest: Vitest): void {
    this.watching = vitest.config.watch;
    forgetPytestReport(PYTEST_REPORT);
    if (!this.watching) process.once("exit", (code) => this.printAtExit(code));
  }

  onTestRunStart(): void {
    this.counts = { passed: 0, failed: 0, skipped: 0 };
    if (this.watching) forgetPytestReport(PYTEST_REPORT);
  }

  // Running totals, for a run that is interrupted before onTestRunEnd.
  onTestCaseResult(test: TestCase): void {
    const state = test.result().state;
    if (state !== "pending") this.counts[state] += 1;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    this.counts = countTests(modules, unhandledErrors.length, reason);
    if (this.watching) process.stdout.write(`${formatClosingLine(addCounts(this.counts, readPytestCounts(PYTEST_REPORT)))}\n`);
  }

  private printAtExit(code: number): void {
    const exitCode = code !== 0 ? code : Number(process.exitCode ?? 0);
    const counts = addCounts(this.counts, readPytestCounts(PYTEST_REPORT));
    const failed = exitCode !== 0 && counts.failed === 0 ? 1 : counts.failed;
    // Synchronous on files and pipes, which is what CI captures.
    process.stdout.write(`${formatClosingLine({ ...counts, failed })}\n`);
  }
}
