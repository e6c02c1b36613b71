import { defineConfig } from "vitest/config";

// The tests StrykerJS runs against mutants of the core (stryker.config.mjs, docs/testing.md
// "Mutation testing"): the unit tests of the core folders and the integration tests that call the
// core in this process. Tests that run the apps from dist/ (test/support/app-process.ts) cannot
// see a mutant (it lives in the sandbox's sources, not in a built child process), so they are left
// out; so is outbox-kafka-outage (70 s per run, and outbox-relay covers the same code).
/**
 * The test set of each group of core folders (JQ_MUTATION_SET, chosen by scripts/mutation/run.sh):
 * the unit tests of the folders and the integration tests that call them in this process. Keeping
 * the leader's timing tests and the outbox's Kafka tests out of the write path's set keeps a
 * mutant's run short, and a timing test that fails under load from failing the other groups' runs.
 */
export const MUTATION_TEST_SETS: Record<string, { unit: string[]; integration: string[] }> = {
  "write-path": {
    unit: [
      "libs/lifecycle/**/*.test.ts",
      "libs/jobs/**/*.test.ts",
      "libs/attempts/**/*.test.ts",
      "libs/dispatch/**/*.test.ts",
      "libs/sweeps/**/*.test.ts",
      // draws the state diagram of libs/lifecycle/state-diagram.ts into docs/architecture.md
      "test/unit/architecture-doc.test.ts",
    ],
    integration: [
      "test/integration/write-path-guarantees.test.ts",
      "test/integration/scheduler-duties.test.ts",
      // written for the mutants the tests above left alive
      "test/integration/job-reads.test.ts",
      "test/integration/job-commands.test.ts",
      "test/integration/claims-and-deliveries.test.ts",
      "test/integration/attempt-outcomes.test.ts",
      "test/integration/sweep-side-effects.test.ts",
      // libs/attempts/reconcile-held-jobs.ts, which only the api's end-to-end tests reached
      "test/integration/heartbeat-reconciliation-store.test.ts",
    ],
  },
  outbox: {
    unit: ["libs/outbox/**/*.test.ts"],
    integration: [
      "test/integration/outbox-relay.test.ts",
      "test/integration/event-log-relay.test.ts",
      "test/integration/outbox-cursor-and-lag.test.ts",
      // the failure and batching paths the tests above left alive
      "test/integration/outbox-relay-recovery.test.ts",
      // the idle polls, a stop during a read, the producer's replacement; the topic and producer
      "test/integration/outbox-relay-rounds.test.ts",
      "test/integration/kafka-link.test.ts",
    ],
  },
  leader: {
    unit: ["libs/leader/**/*.test.ts"],
    // every leader file: the Redis failover and fencing files hold the renewal-failure, lock-lost
    // and fencing paths (a set naming only two of them left those paths uncovered)
    integration: ["test/integration/leader-*.test.ts"],
  },
};

const set = MUTATION_TEST_SETS[process.env.JQ_MUTATION_SET ?? "write-path"];
if (!set) throw new Error(`JQ_MUTATION_SET must be one of ${Object.keys(MUTATION_TEST_SETS).join(", ")}`);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: set.unit,
          setupFiles: ["./test/setup/leak-check.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: set.integration,
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
