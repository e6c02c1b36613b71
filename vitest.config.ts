import { defineConfig } from "vitest/config";

// Two projects: `unit` (pure logic, no services) and `integration` (real Postgres, Redis and Kafka
// from the test bed, started once by the global setup and handed to each file through `inject`).
export default defineConfig({
  test: {
    reporters: ["default", "./test/reporters/closing-line.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["libs/**/*.test.ts", "apps/**/*.test.ts", "test/unit/**/*.test.ts"],
          setupFiles: ["./test/setup/leak-check.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["./test/setup/global.ts"],
          setupFiles: ["./test/setup/leak-check.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: "forks",
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
