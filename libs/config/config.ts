import { hostname } from "node:os";
import type { ApiRole, Settings } from "./settings.js";

/** The typed, frozen configuration every process receives; built once at start from Settings. */
export interface Config {
  readonly nodeId: string;
  readonly logLevel: Settings["JQ_LOG_LEVEL"];
  readonly database: {
    /** Absent only in quick-start mode, where the launcher provides an embedded Postgres. */
    readonly url: string | undefined;
    readonly poolMax: number;
    readonly connectTimeoutMs: number;
    readonly runMigrations: boolean;
    /** How long a submit waits for others to share its insert (group commit); 0: one event-loop turn. */
    readonly submitWindowMs: number;
    /** How long a reported result waits for others to share its transaction; 0: one event-loop turn. */
    readonly resultWindowMs: number;
  };
  readonly redis: { readonly url: string; readonly keyPrefix: string } | undefined;
  readonly kafka:
    | {
        readonly brokers: readonly string[];
        readonly clientId: string;
        readonly topic: string;
        readonly topicPartitions: number;
      }
    | undefined;
  readonly grpc: {
    readonly host: string;
    readonly port: number;
    /** Largest gRPC message either way; a bigger request is RESOURCE_EXHAUSTED before it is read. */
    readonly maxMessageBytes: number;
    /** Connection hygiene (issue 13 item 7); docs/security.md explains each. */
    readonly keepaliveTimeMs: number;
    readonly keepaliveTimeoutMs: number;
    readonly minPingIntervalMs: number;
    readonly maxConnectionIdleMs: number;
    readonly maxConnectionAgeMs: number;
    readonly maxConnectionAgeGraceMs: number;
    readonly maxConnections: number;
    readonly handshakeTimeoutMs: number;
    readonly tls: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile: string | undefined } | undefined;
  };
  /** Configured API keys (hashes only); empty means the API runs open. */
  readonly apiKeys: readonly {
    readonly name: string;
    readonly roles: readonly ApiRole[];
    readonly sha256: string;
    /** Queue names and `prefix*` patterns the key is limited to; absent: every queue. */
    readonly queues?: readonly string[];
  }[];
  readonly health: {
    /**
     * With no API keys configured, whether the dashboard's actions (pause, retry, requeue, …) are
     * allowed anyway. Off by default: without keys the dashboard is read-only.
     */
    readonly actionsWithoutKeys: boolean;
  };
  readonly http: {
    readonly host: string;
    readonly ports: { readonly api: number; readonly scheduler: number; readonly health: number };
    /** Set: /metrics is served only on this host, at `metricsPorts`; unset: on the probe port. */
    readonly metricsHost: string | undefined;
    readonly metricsPorts: { readonly api: number; readonly scheduler: number; readonly health: number };
  };
  readonly limits: {
    readonly maxPayloadBytes: number;
    readonly maxMetadataBytes: number;
    readonly maxMetadataEntries: number;
    readonly maxIdempotencyKeyLength: number;
    readonly maxBatchSize: number;
    readonly maxPageSize: number;
    readonly defaultPageSize: number;
  };
  readonly workers: {
    /** How often workers heartbeat (told at registration). */
    readonly heartbeatIntervalMs: number;
    /** Silence after which a worker is declared lost. */
    readonly heartbeatTimeoutMs: number;
    /** How long an OFFLINE worker's row is kept after its last heartbeat (then deleted). */
    readonly retentionMs: number;
    /** How long a claimed job may stay ASSIGNED without delivery before it is handed back. */
    readonly assignmentLeaseMs: number;
    /** Period of the dispatcher's sweep that covers lost notifications and due delayed jobs. */
    readonly dispatchSweepMs: number;
    /** Longest wait of a delivery's RUNNING mark for the job's result (docs/write-path.md). */
    readonly deliveryMarkDelayMs: number;
  };
  readonly scheduler: {
    /** Leader lock lease; a standby takes over within one lease of the leader's death. */
    readonly leaderLeaseMs: number;
    /** Period of the time-based duties (lost workers, leases, timeouts, TTLs, due jobs). */
    readonly sweepIntervalMs: number;
    readonly retentionIntervalMs: number;
    readonly outboxBatchSize: number;
    readonly outboxPollMs: number;
    /** How often pg-boss's timekeeper looks for due cron ticks (pg-boss allows 1–45 s). */
    readonly cronMonitorIntervalSeconds: number;
  };
  /** How often each process announces itself; it counts as alive for three intervals. */
  readonly presenceIntervalMs: number;
  readonly shutdownTimeoutMs: number;
}

export function toConfig(s: Settings, pid: number = process.pid): Config {
  return deepFreeze({
    nodeId: s.JQ_NODE_ID ?? `${hostname()}-${pid}`,
    logLevel: s.JQ_LOG_LEVEL,
    database: {
      url: s.JQ_DATABASE_URL,
      poolMax: s.JQ_DATABASE_POOL_MAX,
      connectTimeoutMs: s.JQ_DATABASE_CONNECT_TIMEOUT_MS,
      runMigrations: s.JQ_RUN_MIGRATIONS,
      submitWindowMs: s.JQ_SUBMIT_WINDOW_MS,
      resultWindowMs: s.JQ_RESULT_WINDOW_MS,
    },
    redis: s.JQ_REDIS_URL === undefined ? undefined : { url: s.JQ_REDIS_URL, keyPrefix: s.JQ_REDIS_KEY_PREFIX },
    kafka:
      s.JQ_KAFKA_BROKERS === undefined
        ? undefined
        : {
            brokers: s.JQ_KAFKA_BROKERS,
            clientId: s.JQ_KAFKA_CLIENT_ID,
            topic: s.JQ_KAFKA_TOPIC,
            topicPartitions: s.JQ_KAFKA_TOPIC_PARTITIONS,
          },
    grpc: {
      host: s.JQ_GRPC_HOST,
      port: s.JQ_GRPC_PORT,
      maxMessageBytes: s.JQ_GRPC_MAX_MESSAGE_BYTES,
      keepaliveTimeMs: s.JQ_GRPC_KEEPALIVE_TIME_MS,
      keepaliveTimeoutMs: s.JQ_GRPC_KEEPALIVE_TIMEOUT_MS,
      minPingIntervalMs: s.JQ_GRPC_MIN_PING_INTERVAL_MS,
      maxConnectionIdleMs: s.JQ_GRPC_MAX_CONNECTION_IDLE_MS,
      maxConnectionAgeMs: s.JQ_GRPC_MAX_CONNECTION_AGE_MS,
      maxConnectionAgeGraceMs: s.JQ_GRPC_MAX_CONNECTION_AGE_GRACE_MS,
      maxConnections: s.JQ_GRPC_MAX_CONNECTIONS,
      handshakeTimeoutMs: s.JQ_GRPC_HANDSHAKE_TIMEOUT_MS,
      tls:
        s.JQ_TLS_CERT_FILE === undefined || s.JQ_TLS_KEY_FILE === undefined
          ? undefined
          : { certFile: s.JQ_TLS_CERT_FILE, keyFile: s.JQ_TLS_KEY_FILE, clientCaFile: s.JQ_TLS_CLIENT_CA_FILE },
    },
    apiKeys: s.JQ_API_KEYS,
    health: { actionsWithoutKeys: s.JQ_HEALTH_ACTIONS_WITHOUT_KEYS },
    http: {
      host: s.JQ_HTTP_HOST,
      ports: { api: s.JQ_API_HTTP_PORT, scheduler: s.JQ_SCHEDULER_HTTP_PORT, health: s.JQ_HEALTH_HTTP_PORT },
      metricsHost: s.JQ_METRICS_HOST,
      metricsPorts: { api: s.JQ_API_METRICS_PORT, scheduler: s.JQ_SCHEDULER_METRICS_PORT, health: s.JQ_HEALTH_METRICS_PORT },
    },
    limits: {
      maxPayloadBytes: s.JQ_MAX_PAYLOAD_BYTES,
      maxMetadataBytes: s.JQ_MAX_METADATA_BYTES,
      maxMetadataEntries: s.JQ_MAX_METADATA_ENTRIES,
      maxIdempotencyKeyLength: s.JQ_MAX_IDEMPOTENCY_KEY_LENGTH,
      maxBatchSize: s.JQ_MAX_BATCH_SIZE,
      maxPageSize: s.JQ_MAX_PAGE_SIZE,
      defaultPageSize: s.JQ_DEFAULT_PAGE_SIZE,
    },
    workers: {
      heartbeatIntervalMs: s.JQ_HEARTBEAT_INTERVAL_MS,
      heartbeatTimeoutMs: s.JQ_HEARTBEAT_TIMEOUT_MS,
      retentionMs: s.JQ_WORKER_RETENTION_MS,
      assignmentLeaseMs: s.JQ_ASSIGNMENT_LEASE_MS,
      dispatchSweepMs: s.JQ_DISPATCH_SWEEP_MS,
      deliveryMarkDelayMs: s.JQ_DELIVERY_MARK_DELAY_MS,
    },
    scheduler: {
      leaderLeaseMs: s.JQ_LEADER_LEASE_MS,
      sweepIntervalMs: s.JQ_SWEEP_INTERVAL_MS,
      retentionIntervalMs: s.JQ_RETENTION_INTERVAL_MS,
      outboxBatchSize: s.JQ_OUTBOX_BATCH_SIZE,
      outboxPollMs: s.JQ_OUTBOX_POLL_MS,
      cronMonitorIntervalSeconds: s.JQ_CRON_MONITOR_INTERVAL_SECONDS,
    },
    presenceIntervalMs: s.JQ_PRESENCE_INTERVAL_MS,
    shutdownTimeoutMs: s.JQ_SHUTDOWN_TIMEOUT_MS,
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
