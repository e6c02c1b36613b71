import { defineConfig } from "vitest/config";

// The tests StrykerJS runs against mutants of the core (stryker.config.mjs, docs/testing.md
// "Mutation testing"): the unit tests of the core folders and the integration tests that call the
// core in this process. Tests that run the apps from dist/ (test/support/app-process.ts) cannot
// see a mutant (it lives in the sandbox's sources, not in a built child process), so they are left
// out; so is outbox-kafka-outage (70 s per run, and outbox-relay covers the same code).
export const MUTATION_UNIT_TESTS = [
  "libs/lifecycle/**/*.test.ts",
  "libs/jobs/**/*.test.ts",
  "libs/attempts/**/*.test.ts",
  "libs/dispatch/**/*.test.ts",
  "libs/outbox/**/*.test.ts",
  "libs/leader/**/*.test.ts",
  "libs/sweeps/**/*.test.ts",
  // draws the state diagram of libs/lifecycle/state-diagram.ts into docs/architecture.md
  "test/unit/architecture-doc.test.ts",
];

export const MUTATION_INTEGRATION_TESTS = [
  "test/integration/write-path-guarantees.test.ts",
  "test/integration/event-log-relay.test.ts",
  "test/integration/scheduler-duties.test.ts",
  "test/integration/outbox-relay.test.ts",
  "test/integration/leader-postgres.test.ts",
  "test/integration/leader-redis.test.ts",
  // written for the mutants of the core that the tests above left alive
  "test/integration/job-reads.test.ts",
  "test/integration/job-commands.test.ts",
  "test/integration/claims-and-deliveries.test.ts",
  "test/integration/attempt-outcomes.test.ts",
  "test/integration/sweep-side-effects.test.ts",
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: MUTATION_UNIT_TESTS,
          setupFiles: ["./test/setup/leak-check.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: MUTATION_INTEGRATION_TESTS,
          globalSetup: ["./test/setup/global.ts"],
          setupFiles: ["./test/setup/leak-check.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: "forks",
        },
      },
    ],
  },
});
