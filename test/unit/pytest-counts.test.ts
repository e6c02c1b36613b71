import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addCounts, countJunit, forgetPytestReport, readPytestCounts } from "../reporters/pytest-counts.js";

// What pytest 8/9 writes with --junitxml (trimmed): passed, failed, errored and skipped cases.
const REPORT = `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="1.0">
<testcase classname="tests.test_a" name="test_ok" time="0.1" />
<testcase classname="tests.test_a" name="test_ok_with_output" time="0.1"><system-out>hello</system-out></testcase>
<testcase classname="tests.test_a" name="test_bad" time="0.1"><failure message="assert 1 == 2">tests/test_a.py:3: AssertionError</failure></testcase>
<testcase classname="tests.test_b" name="test_setup_broke" time="0.0"><error message="failed on setup with &quot;RuntimeError&quot;">trace</error></testcase>
<testcase classname="tests.test_b" name="test_skipped" time="0.0"><skipped type="pytest.skip" message="no">reason</skipped></testcase>
</testsuite></testsuites>`;

describe("pytest JUnit counts for the closing line", () => {
  it("counts passed, failed (failure or error) and skipped test cases", () => {
    expect(countJunit(REPORT)).toEqual({ passed: 2, failed: 2, skipped: 1 });
  });

  it("adds nothing when the run wrote no report, and forgets an old one", () => {
    const file = join(mkdtempSync(join(tmpdir(), "jq-pytest-")), "report.xml");
    expect(readPytestCounts(file)).toBeUndefined();
    writeFileSync(file, REPORT);
    expect(addCounts({ passed: 10, failed: 0, skipped: 0 }, readPytestCounts(file))).toEqual({ passed: 12, failed: 2, skipped: 1 });
    forgetPytestReport(file);
    expect(readPytestCounts(file)).toBeUndefined();
  });
});
