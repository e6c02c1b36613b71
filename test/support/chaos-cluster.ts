import { startLocalKafka, type LocalKafka } from "../bed/kafka.js";
import { findFreePort } from "../bed/free-port.js";
import { startLocalPostgres, type LocalPostgres } from "../bed/postgres.js";
import { startLocalRedis, type LocalRedis } from "../bed/redis.js";
import { startApp, type AppProcess } from "./app-process.js";

// The real cluster for fault tests: private Postgres, Redis and Kafka (restartable on the same
// ports), and jq processes on fixed ports, so a process killed on purpose can be started again
// where its clients expect it. Every process ever started is remembered, with whether the test
// killed it, so the end of a test can say which ones died on their own.

export interface PrivateServices {
  readonly postgres: LocalPostgres;
  readonly redis: LocalRedis;
  readonly kafka: LocalKafka;
  stop(): Promise<void>;
}

/** Postgres, Redis and Kafka of this test alone (it restarts them); started concurrently. */
export async function startPrivateServices(): Promise<PrivateServices> {
  const started = await Promise.allSettled([startLocalPostgres(), startLocalRedis(), startLocalKafka()] as const);
  const stop = () => Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined))).then(() => undefined);
  const [postgres, redis, kafka] = started;
  if (postgres.status === "rejected" || redis.status === "rejected" || kafka.status === "rejected") {
    await stop();
    throw new AggregateError(started.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : [])), "private services failed to start");
  }
  return { postgres: postgres.value, redis: redis.value, kafka: kafka.value, stop };
}

type AppName = "api" | "scheduler" | "health";

/** One jq process slot: the same app, env and ports across kills and restarts. */
export class ClusterNode {
  current: AppProcess;
  readonly history: AppProcess[] = [];
  private readonly killed = new Set<AppProcess>();

  constructor(
    readonly name: string,
    readonly app: AppName,
    private readonly env: Record<string, string>,
    readonly httpPort: number,
    readonly grpcPort: number | undefined,
  ) {
    this.current = this.spawn();
  }

  get address(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get base(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Sends `signal` to the current process; SIGKILL marks it as killed on purpose. */
  signal(signal: NodeJS.Signals): void {
    if (signal === "SIGKILL") this.killed.add(this.current);
    this.current.child.kill(signal);
  }

  /** SIGKILLs the current process and waits until it is gone. */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    await this.current.exited();
  }

  /** Starts the app again (same env and ports) and waits until it is ready. */
  async restart(): Promise<void> {
    this.current = this.spawn();
    await this.current.ready(60_000);
  }

  /** Processes of this slot that ended although nobody killed them (before `stop`). */
  unexpectedExits(): string[] {
    return this.history
      .filter((p) => !this.killed.has(p) && (p.child.exitCode !== null || p.child.signalCode !== null))
      .map((p) => `${this.name} (pid ${p.child.pid}) exited ${p.child.exitCode ?? p.child.signalCode}: ${p.stderr().slice(-500)}`);
  }

  /** Fetches `path` on the probe port as JSON (undefined when the process does not answer). */
  async probe(path: string, timeoutMs = 1_000): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
    try {
      const res = await fetch(`${this.base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    } catch {
      return undefined;
    }
  }

  private spawn(): AppProcess {
    const ports: Record<string, string> = { [`JQ_${this.app.toUpperCase()}_HTTP_PORT`]: String(this.httpPort) };
    if (this.grpcPort !== undefined) ports.JQ_GRPC_PORT = String(this.grpcPort);
    const p = startApp(this.app, { JQ_NODE_ID: this.name, ...this.env, ...ports });
    this.history.push(p);
    return p;
  }
}

/** Starts `app` as node `name` on free fixed ports; resolves once it is ready. */
export async function startNode(name: string, app: AppName, env: Record<string, string>): Promise<ClusterNode> {
  const httpPort = await findFreePort();
  const grpcPort = app === "api" ? await findFreePort() : undefined;
  const node = new ClusterNode(name, app, env, httpPort, grpcPort);
  try {
    await node.current.ready(60_000);
  } catch (err) {
    await node.current.stop(1_000);
    throw err;
  }
  return node;
}

/** The environment every jq process of a cluster on `services` gets. */
export function clusterEnv(services: PrivateServices, topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    JQ_DATABASE_URL: services.postgres.endpoint,
    JQ_REDIS_URL: services.redis.endpoint,
    JQ_KAFKA_BROKERS: services.kafka.endpoint.join(","),
    JQ_KAFKA_TOPIC: topic,
    JQ_KAFKA_TOPIC_PARTITIONS: "3",
    JQ_DATABASE_CONNECT_TIMEOUT_MS: "1000",
    ...extra,
  };
}
