// How the closing line counts. Tests, not files, are counted, but a failure that belongs to no
// test must still show: an error in a beforeAll/afterAll (the leak check throws there), a file
// that fails to import, or an unhandled error each count as one failed test. Otherwise a run
// that failed could end with "0 failed" and a CI script reading only that line would pass it.

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** The parts of vitest's reported tasks (TestModule, TestSuite, TestCase) that counting needs. */
export interface CountableTest {
  result(): { state: "passed" | "failed" | "skipped" | "pending" };
}
export interface CountableSuite {
  errors(): readonly unknown[];
}
export interface CountableModule extends CountableSuite {
  children: { allTests(): Iterable<CountableTest>; allSuites(): Iterable<CountableSuite> };
}

export type RunEndReason = "passed" | "failed" | "interrupted";

export function countTests(modules: Iterable<CountableModule>, unhandledErrors: number, reason: RunEndReason): TestCounts {
  const counts: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      // A test still pending at the end never finished: its run was interrupted or crashed.
      if (state === "pending") counts.failed += 1;
      else counts[state] += 1;
    }
    if (module.errors().length > 0) counts.failed += 1;
    for (const suite of module.children.allSuites()) {
      if (suite.errors().length > 0) counts.failed += 1;
    }
  }
  counts.failed += unhandledErrors;
  if (reason !== "passed" && counts.failed === 0) counts.failed = 1;
  return counts;
}

/** The line CI parses; keep the format stable. */
export function formatClosingLine(counts: TestCounts): string {
  return `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}
