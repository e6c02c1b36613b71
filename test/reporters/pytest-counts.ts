import { existsSync, readFileSync, rmSync } from "node:fs";
import type { TestCounts } from "./test-counts.js";

// The Python SDK's tests run under pytest as a child of one vitest test
// (test/integration/python-sdk.test.ts), which writes pytest's JUnit XML to test-results/. The
// closing line adds those tests to vitest's, so `tests: N passed…` counts every test that ran.

/** Counts of a pytest JUnit XML report: testcases with <failure> or <error> failed, with <skipped> skipped. */
export function countJunit(xml: string): TestCounts {
  const counts: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const match of xml.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[1] ?? "";
    if (/<(failure|error)\b/.test(body)) counts.failed += 1;
    else if (/<skipped\b/.test(body)) counts.skipped += 1;
    else counts.passed += 1;
  }
  return counts;
}

/** The counts of the report at `path`, or none when this run did not write it. */
export function readPytestCounts(path: string): TestCounts | undefined {
  return existsSync(path) ? countJunit(readFileSync(path, "utf8")) : undefined;
}

/** Removes a report left by an earlier run, so only this run's is counted. */
export function forgetPytestReport(path: string): void {
  rmSync(path, { force: true });
}

export function addCounts(a: TestCounts, b: TestCounts | undefined): TestCounts {
  return b ? { passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped } : a;
}
