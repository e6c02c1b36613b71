import { Redis } from "ioredis";
import { Kafka, logLevel, type Admin } from "kafkajs";
import type { Logger } from "../logging/logger.js";
import { stopIdleRequestQueueTimers } from "../outbox/kafkajs-idle-timer.js";

/**
 * Reachability of the optional dependencies, as apps/health reports them (SPEC §8). Each check
 * connects on first use, answers within `timeoutMs` or rejects, and `close()` (safe twice) drops
 * its connection. They never decide the health process's own readiness (that is a probe,
 * libs/probes, and depends on Postgres only).
 */
export interface Reachability {
  readonly name: string;
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Redis answers PING. */
export class RedisReachability implements Reachability {
  readonly name = "redis";
  private readonly redis: Redis;
  private closed = false;

  constructor(url: string, private readonly timeoutMs: number, log: Logger) {
    this.redis = new Redis(url, {
      connectionName: "jq-health",
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    });
    this.redis.on("error", (err: Error) => log.debug({ err: err.message }, "health Redis connection error"));
  }

  async check(): Promise<void> {
    if (this.closed) throw new Error("closed");
    if (this.redis.status === "wait") await withDeadline(this.redis.connect(), this.timeoutMs);
    await withDeadline(this.redis.ping(), this.timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.redis.disconnect();
  }
}

/** A Kafka broker answers a metadata request (describeCluster). */
export class KafkaReachability implements Reachability {
  readonly name = "kafka";
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private closed = false;

  constructor(settings: { brokers: readonly string[]; clientId: string }, private readonly timeoutMs: number) {
    stopIdleRequestQueueTimers();
    this.kafka = new Kafka({
      clientId: `${settings.clientId}-health`,
      brokers: [...settings.brokers],
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      retry: { retries: 0 },
      // Failures surface as /status text; kafkajs's own retry chatter would only be noise.
      logLevel: logLevel.NOTHING,
    });
  }

  async check(): Promise<void> {
    if (this.closed) throw new Error("closed");
    try {
      this.admin ??= await this.connectAdmin();
      await withDeadline(this.admin.describeCluster(), this.timeoutMs);
    } catch (err) {
      // Start over on the next check rather than reuse a connection in an unknown state.
      await this.dropAdmin();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dropAdmin();
  }

  private async connectAdmin(): Promise<Admin> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await withDeadline(admin.connect(), this.timeoutMs);
    } catch (err) {
      await admin.disconnect().catch(() => {});
      throw err;
    }
    return admin;
  }

  private async dropAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => {});
  }
}

/** Rejects with "no answer within N ms" when `promise` takes longer; the timer never outlives it. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
