// Mutation testing of jq's core with StrykerJS: `npm run test:mutation` (docs/testing.md,
// "Mutation testing"). Not part of `npm test` or .ci/run: a full run takes about 70 minutes on a
// 2-core machine.

/**
 * The core folders whose mutation score docs/testing.md reports, by the test set that covers them
 * (vitest.mutation.config.ts). scripts/mutation/run.sh runs Stryker once per set.
 */
const FOLDERS = {
  "write-path": ["lifecycle", "jobs", "attempts", "dispatch", "sweeps"],
  outbox: ["outbox"],
  leader: ["leader"],
};
const set = process.env.JQ_MUTATION_SET ?? "write-path";
/** JQ_TEST_MUTATION_FOLDERS=jobs,sweeps narrows a run to some folders of its set. */
const folders = process.env.JQ_TEST_MUTATION_FOLDERS?.split(",") ?? FOLDERS[set];
if (!folders) throw new Error(`JQ_MUTATION_SET must be one of ${Object.keys(FOLDERS).join(", ")}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner", "./scripts/mutation/ignorers.mjs"],
  // The set's unit tests and the integration tests that call its folders in this process, against
  // the test bed's real Postgres, Redis and Kafka (its global setup starts one per Stryker worker).
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  mutate: [...folders.map((dir) => `libs/${dir}/**/*.ts`), "!libs/**/*.test.ts", "!libs/**/index.ts"],
  ignorers: ["sql-text", "log-calls"],
  // Each mutant runs only the tests that executed its code in the initial run.
  coverageAnalysis: "perTest",
  // Mutants executed while modules load (the lifecycle table, prepared statements' Move constants)
  // would each need every test in the set; they are reported as ignored (docs/testing.md).
  ignoreStatic: true,
  // dist/ is copied: the leader tests start test/support/leader-node.ts from it (those child
  // processes run unmutated code; the in-process tests are the ones that see a mutant).
  // Two cores shared with other work: one vitest (and one test bed) per Stryker worker.
  concurrency: 2,
  // The integration tests wait on real servers; a mutant that hangs one is caught by its timeout.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  disableTypeChecks: "libs/**/*.ts",
  ignorePatterns: [".tools", ".data", ".scratch", "test-results", "reports", "bench", "deploy", "sdk", "*.log", ".stryker-tmp*"],
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${set}.html` },
  jsonReporter: { fileName: `reports/mutation/${set}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // One sandbox folder per set: scripts/mutation/run.sh runs the outbox set beside the others.
  tempDirName: `.stryker-tmp-${set}`,
  cleanTempDir: "always",
};
