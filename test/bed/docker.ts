import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stopOnlyOnce, type StartedService } from "./started-service.js";
import { withinDeadline } from "./wait-until.js";

// The services as containers, for machines with a Docker engine (a developer's laptop). The
// testcontainers packages are imported only on this path: loading them costs about a second and
// the build machines, which have no engine, never need them. Settings mirror the local servers
// so a test behaves the same on either.

const POSTGRES_IMAGE = "postgres:15-alpine";
const REDIS_IMAGE = "redis:7-alpine";
// Confluent Platform 8.0 ships Apache Kafka 4.0 and runs in KRaft mode.
const KAFKA_IMAGE = "confluentinc/cp-kafka:8.0.0";

// Places where an engine's socket (or a testcontainers setting naming one) usually lives. When
// none exists there is nothing to ask, and asking would only cost time.
function dockerMightAnswer(): boolean {
  const env = process.env;
  if (env.DOCKER_HOST || env.TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE) return true;
  const home = os.homedir();
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const candidates = [
    "/var/run/docker.sock",
    "/run/podman/podman.sock",
    path.join(home, ".docker", "run", "docker.sock"),
    path.join(home, ".docker", "desktop", "docker.sock"),
    path.join(home, ".testcontainers.properties"),
    ...(runtimeDir ? [path.join(runtimeDir, "docker.sock"), path.join(runtimeDir, "podman", "podman.sock")] : []),
  ];
  return candidates.some((candidate) => fs.existsSync(candidate));
}

/**
 * Whether a container engine answers, decided within `timeoutMs`: a socket file alone is not
 * enough (a stopped Docker Desktop leaves one behind), so testcontainers is asked to ping it.
 */
export async function dockerAnswers(timeoutMs = 5_000): Promise<boolean> {
  if (!dockerMightAnswer()) return false;
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    const client = await withinDeadline(getContainerRuntimeClient(), timeoutMs);
    return client !== undefined;
  } catch {
    return false;
  }
}

interface StoppableContainer {
  getHost(): string;
  getMappedPort(port: number): number;
  getId(): string;
  stop(): Promise<unknown>;
}

function describeContainer(container: StoppableContainer, port: number): string {
  return `${container.getHost()}:${container.getMappedPort(port)} (container ${container.getId().slice(0, 12)})`;
}

function stopContainer(container: StoppableContainer): () => Promise<void> {
  return stopOnlyOnce(async () => {
    await container.stop();
  });
}

export async function startDockerPostgres(): Promise<StartedService<string>> {
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
    .withDatabase("postgres")
    .withUsername("postgres")
    .withPassword("postgres")
    .withCommand([
      "postgres",
      ...["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=300", "jit=off", "timezone=UTC"].flatMap(
        (setting) => ["-c", setting],
      ),
    ])
    .withTmpFs({ "/var/lib/postgresql/data": "rw" })
    .start();
  return { endpoint: container.getConnectionUri(), where: describeContainer(container, 5432), stop: stopContainer(container) };
}

export async function startDockerRedis(): Promise<StartedService<string>> {
  const { RedisContainer } = await import("@testcontainers/redis");
  const container = await new RedisContainer(REDIS_IMAGE).withCommand(["redis-server", "--save", "", "--appendonly", "no"]).start();
  return { endpoint: container.getConnectionUrl(), where: describeContainer(container, 6379), stop: stopContainer(container) };
}

export async function startDockerKafka(): Promise<StartedService<string[]>> {
  const { KafkaContainer } = await import("@testcontainers/kafka");
  // Port 9093 is the listener testcontainers advertises to the host.
  const container = await new KafkaContainer(KAFKA_IMAGE)
    .withKraft()
    .withEnvironment({
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
      KAFKA_NUM_PARTITIONS: "1",
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: "1",
    })
    .start();
  const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
  return { endpoint: brokers, where: describeContainer(container, 9093), stop: stopContainer(container) };
}
