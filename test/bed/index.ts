import { dockerAnswers, startDockerKafka, startDockerPostgres, startDockerRedis } from "./docker.js";
import { startLocalKafka } from "./kafka.js";
import { startLocalPostgres } from "./postgres.js";
import { startLocalRedis } from "./redis.js";
import { stopOnlyOnce, type StartedService } from "./started-service.js";

// The test bed: one Postgres, one Redis and one Kafka for a whole test run (or a developer's
// session, see scripts/testbed.ts). Which kind, per service:
//
//   JQ_TEST_DATABASE_URL / JQ_TEST_REDIS_URL / JQ_TEST_KAFKA_BROKERS set  -> used as given ("env")
//   otherwise, a Docker engine answers                                     -> testcontainers ("docker")
//   otherwise                                                              -> local processes ("local")
//
// JQ_TEST_BED=local or JQ_TEST_BED=docker skips the Docker probe and forces one kind. Tests get
// isolation per file from test/support (a database, key prefix or topic each), not from here.

export type TestBedProvider = "env" | "docker" | "local";

export interface TestBedEndpoints {
  /** Superuser URL to the `postgres` database; test/support creates a database per test file. */
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  /** Who started the services not given by environment variables; "env" when all three were. */
  provider: TestBedProvider;
}

export interface TestBed {
  readonly endpoints: TestBedEndpoints;
  /** Stops every service the bed started and removes its data; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartTestBedOptions {
  /** Where the one-line-per-service progress goes; stderr by default. */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

type ServiceName = "postgres" | "redis" | "kafka";

interface Starters {
  postgres: () => Promise<StartedService<string>>;
  redis: () => Promise<StartedService<string>>;
  kafka: () => Promise<StartedService<string[]>>;
}

const LOCAL: Starters = { postgres: startLocalPostgres, redis: startLocalRedis, kafka: startLocalKafka };
const DOCKER: Starters = { postgres: startDockerPostgres, redis: startDockerRedis, kafka: startDockerKafka };

function writeToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function seconds(sinceMs: number): string {
  return `${((performance.now() - sinceMs) / 1000).toFixed(1)} s`;
}

/** Hides the password of a URL so it can be logged. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

async function chooseProvider(requested: string | undefined): Promise<"docker" | "local"> {
  if (requested === "local") return "local";
  if (requested === "docker") {
    if (!(await dockerAnswers())) throw new Error("JQ_TEST_BED=docker but no Docker engine answers");
    return "docker";
  }
  if (requested !== undefined && requested !== "") {
    throw new Error(`JQ_TEST_BED must be "local" or "docker", got ${JSON.stringify(requested)}`);
  }
  return (await dockerAnswers()) ? "docker" : "local";
}

export async function startTestBed(options: StartTestBedOptions = {}): Promise<TestBed> {
  const log = options.log ?? writeToStderr;
  const env = options.env ?? process.env;
  const databaseUrl = env.JQ_TEST_DATABASE_URL || undefined;
  const redisUrl = env.JQ_TEST_REDIS_URL || undefined;
  const kafkaBrokers = env.JQ_TEST_KAFKA_BROKERS?.split(",").map((broker) => broker.trim()).filter((broker) => broker !== "");
  const brokersGiven = kafkaBrokers !== undefined && kafkaBrokers.length > 0;

  const everythingGiven = databaseUrl !== undefined && redisUrl !== undefined && brokersGiven;
  const provider = everythingGiven ? "env" : await chooseProvider(env.JQ_TEST_BED);
  const starters = provider === "docker" ? DOCKER : LOCAL;

  const timed = async <Endpoint>(name: ServiceName, start: () => Promise<StartedService<Endpoint>>) => {
    const startedAt = performance.now();
    const service = await start();
    log(`test bed: ${name} ready in ${seconds(startedAt)} at ${service.where}`);
    return service;
  };
  // A service the developer runs: never stopped by us.
  const given = <Endpoint>(name: ServiceName, endpoint: Endpoint, variable: string, shown: string): StartedService<Endpoint> => {
    log(`test bed: ${name} from ${variable} at ${shown}`);
    return { endpoint, where: shown, stop: async () => undefined };
  };
  const results = await Promise.allSettled([
    databaseUrl !== undefined
      ? given("postgres", databaseUrl, "JQ_TEST_DATABASE_URL", redact(databaseUrl))
      : timed("postgres", starters.postgres),
    redisUrl !== undefined ? given("redis", redisUrl, "JQ_TEST_REDIS_URL", redact(redisUrl)) : timed("redis", starters.redis),
    brokersGiven ? given("kafka", kafkaBrokers, "JQ_TEST_KAFKA_BROKERS", kafkaBrokers.join(",")) : timed("kafka", starters.kafka),
  ] as const);
  const [postgres, redis, kafka] = results;

  if (postgres.status === "rejected" || redis.status === "rejected" || kafka.status === "rejected") {
    // Do not leave the services that did start running behind a failed start.
    await Promise.allSettled(results.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)));
    const errors = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    throw new AggregateError(errors, `test bed failed to start:\n${errors.map((error) => `  - ${String(error)}`).join("\n")}`);
  }
  const services = [postgres.value, redis.value, kafka.value];
  const stop = stopOnlyOnce(async () => {
    const startedAt = performance.now();
    const stopped = await Promise.allSettled(services.map((service) => service.stop()));
    const failures = stopped.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    if (failures.length > 0) throw new AggregateError(failures, "test bed: some services failed to stop");
    log(`test bed: stopped in ${seconds(startedAt)}`);
  });

  return {
    endpoints: {
      databaseUrl: postgres.value.endpoint,
      redisUrl: redis.value.endpoint,
      kafkaBrokers: kafka.value.endpoint,
      provider,
    },
    stop,
  };
}
