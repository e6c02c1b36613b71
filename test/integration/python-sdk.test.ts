import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { ensurePythonVenv, pytestJunitPath, repoRoot, runPytest } from "../support/python-sdk.js";

/**
 * The Python SDK's own tests (sdk/python/tests, pytest) against the real cluster: its fixtures
 * start apps/api replicas and the scheduler from dist/ on a fresh database of the test bed's
 * Postgres, and Python worker processes. pytest is the runner because the workers under test are
 * Python; this file hands it the test bed and fails if any pytest test fails. The closing line
 * counts each pytest test (from the JUnit XML written to test-results/), not just this one.
 */
describe("Python worker SDK (pytest, real processes)", () => {
  let db: TestDatabase;
  let venv: string;

  beforeAll(async () => {
    venv = await ensurePythonVenv();
    db = await createTestDatabase({ poolMax: 1 });
  }, 600_000);
  afterAll(async () => {
    await db.drop();
  });

  it("passes sdk/python/tests", async () => {
    const { code, output } = await runPytest(venv, ["-q", "-p", "no:cacheprovider", `--junitxml=${pytestJunitPath}`, "tests"], {
      JQ_TEST_DATABASE_URL: db.url,
      JQ_TEST_NODE: process.execPath,
      JQ_TEST_REPO: repoRoot,
    });
    expect(code, output).toBe(0);
    expect(output).toMatch(/\d+ passed/);
  }, 600_000);
});
