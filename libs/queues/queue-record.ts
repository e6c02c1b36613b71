import type { JobStatus } from "../lifecycle/index.js";

/** A queue's settings, every field resolved (defaults filled in by the schema). */
export interface QueueSettings {
  readonly maxRetries: number;
  readonly ttlSeconds: number | null;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly timeoutSeconds: number | null;
  readonly maxConcurrency: number | null;
  readonly retentionSeconds: number;
}

export interface QueueRecord extends QueueSettings {
  readonly name: string;
  readonly paused: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface QueueStats {
  readonly depth: Readonly<Record<JobStatus, number>>;
  /** Milliseconds since the oldest due PENDING job became due; null when none waits. */
  readonly oldestPendingAgeMs: number | null;
  /** PENDING jobs whose not_before is still in the future. */
  readonly scheduled: number;
}

/** Defaults of SPEC §2's queue columns, mirrored by the column defaults of migration 0001. */
export const QUEUE_DEFAULTS: QueueSettings = {
  maxRetries: 3,
  ttlSeconds: null,
  backoffBaseMs: 1000,
  backoffMaxMs: 300_000,
  timeoutSeconds: null,
  maxConcurrency: null,
  retentionSeconds: 7 * 24 * 3600,
};

/** Setting name → column; the only column names an update may touch. */
export const SETTING_COLUMNS: Readonly<Record<keyof QueueSettings, string>> = {
  maxRetries: "max_retries",
  ttlSeconds: "ttl_seconds",
  backoffBaseMs: "backoff_base_ms",
  backoffMaxMs: "backoff_max_ms",
  timeoutSeconds: "timeout_seconds",
  maxConcurrency: "max_concurrency",
  retentionSeconds: "retention_seconds",
};

export const QUEUE_COLUMNS = `q.name, q.paused, q.max_retries AS "maxRetries", q.ttl_seconds AS "ttlSeconds",
  q.backoff_base_ms AS "backoffBaseMs", q.backoff_max_ms AS "backoffMaxMs", q.timeout_seconds AS "timeoutSeconds",
  q.max_concurrency AS "maxConcurrency", q.retention_seconds AS "retentionSeconds",
  q.created_at AS "createdAt", q.updated_at AS "updatedAt"`;
