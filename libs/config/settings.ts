import { z } from "zod";

/**
 * Every setting jq reads, in one schema (SPEC §10). Keys are the environment variable names; a
 * config file (JQ_CONFIG_FILE, JSON) uses the same keys, and the environment wins over the file.
 * Values arrive as strings from the environment and as JSON values from the file, so each field
 * accepts both and normalises.
 */

const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v),
    z
      .number({ error: `expected an integer between ${min} and ${max}` })
      .int({ error: `expected an integer between ${min} and ${max}` })
      .min(min, { error: `expected an integer between ${min} and ${max}` })
      .max(max, { error: `expected an integer between ${min} and ${max}` }),
  );

const bool = () =>
  z.preprocess((v) => {
    if (typeof v !== "string") return v;
    const s = v.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(s)) return true;
    if (["0", "false", "no", "off"].includes(s)) return false;
    return v;
  }, z.boolean({ error: "expected true or false" }));

const text = (pattern?: RegExp, what?: string) => {
  const base = z.string({ error: "expected a string" }).trim().min(1, { error: "must not be empty" });
  return pattern ? base.regex(pattern, { error: `expected ${what ?? pattern.source}` }) : base;
};

const url = (protocols: string[]) =>
  z
    .string({ error: "expected a URL" })
    .trim()
    .refine(
      (s) => {
        try {
          return protocols.includes(new URL(s).protocol);
        } catch {
          return false;
        }
      },
      { error: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}` },
    );

const hostPort = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;
const list = (item: z.ZodType<string>, what: string) =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : v),
    z.array(item, { error: `expected a comma-separated list of ${what}` }).min(1, { error: `expected at least one ${what}` }),
  );

const port = () => int(0, 65535);

export const API_ROLES = ["client", "worker", "admin"] as const;
export type ApiRole = (typeof API_ROLES)[number];

/**
 * `name:role+role:sha256hex[:queues]` entries, comma-separated. Only the SHA-256 of a key is
 * configured, never the key itself (`printf %s "$KEY" | sha256sum`). The optional fourth part
 * scopes the key to queues: names or prefixes ending in `*`, separated by `|`
 * (`billing|reports.*`); a scoped key sees and touches only those queues (docs/security.md).
 */
const QUEUE_PATTERN = "[a-zA-Z0-9._-]{1,128}\\*?|\\*";
const apiKeyEntry = z
  .string()
  .trim()
  .regex(new RegExp(`^[A-Za-z0-9._-]{1,64}:(client|worker|admin)(\\+(client|worker|admin))*:[0-9a-fA-F]{64}(:(${QUEUE_PATTERN})(\\|(${QUEUE_PATTERN}))*)?$`), {
    error: "expected name:role[+role]:sha256hex[:queue|prefix*…] entries (roles: client, worker, admin)",
  })
  .transform((entry) => {
    const [name, roles, hash, queues] = entry.split(":") as [string, string, string, string | undefined];
    const scope = queues === undefined ? undefined : [...new Set(queues.split("|"))];
    return { name, roles: [...new Set(roles.split("+"))] as ApiRole[], sha256: hash.toLowerCase(), ...(scope ? { queues: scope } : {}) };
  });
const apiKeys = () =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : v),
    z.array(apiKeyEntry, { error: "expected a comma-separated list of name:role[+role]:sha256hex" }),
  );
const MiB = 1024 * 1024;

export const settingsSchema = z
  .object({
    JQ_NODE_ID: text(/^[A-Za-z0-9._:-]{1,128}$/, "1-128 letters, digits or . _ : -").optional(),
    JQ_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      error: "expected one of fatal, error, warn, info, debug, trace, silent",
    }).default("info"),

    JQ_DATABASE_URL: url(["postgres:", "postgresql:"]).optional(),
    JQ_DATABASE_POOL_MAX: int(1, 1000).default(10),
    JQ_DATABASE_CONNECT_TIMEOUT_MS: int(100, 600_000).default(5000),

    JQ_REDIS_URL: url(["redis:", "rediss:"]).optional(),
    JQ_REDIS_KEY_PREFIX: text(/^[A-Za-z0-9._:{}-]{1,64}$/, "1-64 letters, digits or . _ : { } -").default("jq:"),

    JQ_KAFKA_BROKERS: list(z.string().regex(hostPort, { error: "expected host:port" }), "host:port brokers").optional(),
    JQ_KAFKA_CLIENT_ID: text(/^[A-Za-z0-9._-]{1,255}$/, "a Kafka client id").default("jq"),
    JQ_KAFKA_TOPIC: text(/^[A-Za-z0-9._-]{1,249}$/, "a Kafka topic name (letters, digits, . _ -)").default("jq.job-events"),
    JQ_KAFKA_TOPIC_PARTITIONS: int(1, 10_000).default(6),

    JQ_GRPC_HOST: text().default("0.0.0.0"),
    JQ_GRPC_PORT: port().default(50051),
    JQ_GRPC_MAX_MESSAGE_BYTES: int(64 * 1024, 512 * MiB).default(16 * MiB),
    JQ_GRPC_KEEPALIVE_TIME_MS: int(1000, 86_400_000).default(10_000),
    JQ_GRPC_KEEPALIVE_TIMEOUT_MS: int(500, 600_000).default(5_000),
    JQ_GRPC_MIN_PING_INTERVAL_MS: int(100, 600_000).default(1_000),
    JQ_GRPC_MAX_CONNECTION_IDLE_MS: int(1000, 86_400_000).default(300_000),
    JQ_GRPC_MAX_CONNECTION_AGE_MS: int(1000, 604_800_000).default(1_800_000),
    JQ_GRPC_MAX_CONNECTION_AGE_GRACE_MS: int(0, 86_400_000).default(60_000),
    JQ_GRPC_MAX_CONNECTIONS: int(1, 1_000_000).default(10_000),
    JQ_GRPC_HANDSHAKE_TIMEOUT_MS: int(100, 600_000).default(10_000),
    JQ_TLS_CERT_FILE: text().optional(),
    JQ_TLS_KEY_FILE: text().optional(),
    JQ_TLS_CLIENT_CA_FILE: text().optional(),

    JQ_API_KEYS: apiKeys().default([]),
    JQ_HEALTH_ACTIONS_WITHOUT_KEYS: bool().default(false),

    JQ_HTTP_HOST: text().default("0.0.0.0"),
    JQ_API_HTTP_PORT: port().default(8080),
    JQ_SCHEDULER_HTTP_PORT: port().default(8081),
    JQ_HEALTH_HTTP_PORT: port().default(8082),
    JQ_METRICS_HOST: text().optional(),
    JQ_API_METRICS_PORT: port().default(9090),
    JQ_SCHEDULER_METRICS_PORT: port().default(9091),
    JQ_HEALTH_METRICS_PORT: port().default(9092),

    JQ_MAX_PAYLOAD_BYTES: int(1, 64 * MiB).default(1 * MiB),
    JQ_MAX_METADATA_BYTES: int(0, 1 * MiB).default(16 * 1024),
    JQ_MAX_METADATA_ENTRIES: int(0, 10_000).default(64),
    JQ_MAX_IDEMPOTENCY_KEY_LENGTH: int(1, 4096).default(256),
    JQ_MAX_BATCH_SIZE: int(1, 100_000).default(1000),
    JQ_MAX_PAGE_SIZE: int(1, 100_000).default(1000),
    JQ_DEFAULT_PAGE_SIZE: int(1, 100_000).default(100),

    JQ_HEARTBEAT_INTERVAL_MS: int(100, 3_600_000).default(5_000),
    JQ_HEARTBEAT_TIMEOUT_MS: int(500, 86_400_000).default(30_000),
    JQ_WORKER_RETENTION_MS: int(1000, 31_536_000_000).default(604_800_000),
    JQ_ASSIGNMENT_LEASE_MS: int(100, 3_600_000).default(30_000),
    JQ_DISPATCH_SWEEP_MS: int(10, 600_000).default(1_000),
    JQ_DELIVERY_MARK_DELAY_MS: int(1, 60_000).default(200),
    JQ_SUBMIT_WINDOW_MS: int(0, 100).default(2),
    JQ_RESULT_WINDOW_MS: int(0, 100).default(2),

    JQ_LEADER_LEASE_MS: int(1_000, 600_000).default(10_000),
    JQ_SWEEP_INTERVAL_MS: int(50, 600_000).default(1_000),
    JQ_RETENTION_INTERVAL_MS: int(100, 86_400_000).default(60_000),
    JQ_OUTBOX_BATCH_SIZE: int(1, 10_000).default(500),
    JQ_OUTBOX_POLL_MS: int(10, 60_000).default(200),
    JQ_CRON_MONITOR_INTERVAL_SECONDS: int(1, 45).default(10),

    JQ_PRESENCE_INTERVAL_MS: int(50, 600_000).default(5_000),

    JQ_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(15_000),
    JQ_RUN_MIGRATIONS: bool().default(true),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.JQ_TLS_CERT_FILE === undefined) !== (s.JQ_TLS_KEY_FILE === undefined)) {
      const missing = s.JQ_TLS_CERT_FILE === undefined ? "JQ_TLS_CERT_FILE" : "JQ_TLS_KEY_FILE";
      ctx.addIssue({ code: "custom", path: [missing], message: "must be set together with JQ_TLS_CERT_FILE and JQ_TLS_KEY_FILE" });
    }
    if (s.JQ_TLS_CLIENT_CA_FILE !== undefined && s.JQ_TLS_CERT_FILE === undefined) {
      ctx.addIssue({ code: "custom", path: ["JQ_TLS_CLIENT_CA_FILE"], message: "mutual TLS needs JQ_TLS_CERT_FILE and JQ_TLS_KEY_FILE too" });
    }
    const names = s.JQ_API_KEYS.map((k) => k.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) ctx.addIssue({ code: "custom", path: ["JQ_API_KEYS"], message: `key name ${dup} is used twice` });
    if (s.JQ_HEARTBEAT_TIMEOUT_MS <= s.JQ_HEARTBEAT_INTERVAL_MS) {
      ctx.addIssue({ code: "custom", path: ["JQ_HEARTBEAT_TIMEOUT_MS"], message: `must exceed JQ_HEARTBEAT_INTERVAL_MS (${s.JQ_HEARTBEAT_INTERVAL_MS})` });
    }
    if (s.JQ_DEFAULT_PAGE_SIZE > s.JQ_MAX_PAGE_SIZE) {
      ctx.addIssue({ code: "custom", path: ["JQ_DEFAULT_PAGE_SIZE"], message: `must not exceed JQ_MAX_PAGE_SIZE (${s.JQ_MAX_PAGE_SIZE})` });
    }
  }, {
    // Cross-field rules only make sense once every field parsed; otherwise they report noise.
    when: (payload) => payload.issues.length === 0,
  });

export type Settings = z.output<typeof settingsSchema>;
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as (keyof Settings)[];
