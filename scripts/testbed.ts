// `npm run testbed`: the integration test bed (Postgres, Redis, Kafka) for a developer's session.
// Prints shell exports on stdout (progress goes to stderr), stays up until Ctrl-C, then stops
// everything. With the exports in a shell, `vitest run --project integration` reuses these
// services instead of starting its own, and `node dist/apps/api/main.js` runs against them.
import { killEverythingNow } from "../test/bed/emergency-cleanup.js";
import { startTestBed } from "../test/bed/index.js";

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const bed = await startTestBed();
const { databaseUrl, redisUrl, kafkaBrokers } = bed.endpoints;
const brokers = kafkaBrokers.join(",");
const exports: [string, string][] = [
  ["JQ_TEST_DATABASE_URL", databaseUrl],
  ["JQ_TEST_REDIS_URL", redisUrl],
  ["JQ_TEST_KAFKA_BROKERS", brokers],
  ["JQ_DATABASE_URL", databaseUrl],
  ["JQ_REDIS_URL", redisUrl],
  ["JQ_KAFKA_BROKERS", brokers],
];
process.stdout.write(`${exports.map(([name, value]) => `export ${name}=${shellQuote(value)}`).join("\n")}\n`);
process.stderr.write(`test bed up (${bed.endpoints.provider}); press Ctrl-C to stop it\n`);

// Keeps the event loop alive until a signal arrives; the services are child processes, which
// do not count as pending work on their own.
const keepAlive = setInterval(() => undefined, 1 << 30);

let stopping = false;
const onSignal = (signal: NodeJS.Signals): void => {
  if (stopping) {
    // A second Ctrl-C: stop waiting for a graceful shutdown.
    killEverythingNow();
    process.exit(130);
  }
  stopping = true;
  process.stderr.write(`\n${signal}: stopping the test bed (Ctrl-C again to kill it)\n`);
  bed.stop().then(
    () => {
      clearInterval(keepAlive);
      process.exitCode = 0;
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      clearInterval(keepAlive);
      process.exitCode = 1;
    },
  );
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
