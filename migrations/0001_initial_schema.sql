-- jq schema, SPEC §2. Every state change writes the jobs row, one job_events row and one outbox
-- row in the same transaction; the indexes below serve the hot paths named beside each one.

CREATE TYPE job_status AS ENUM ('PENDING', 'ASSIGNED', 'RUNNING', 'DONE', 'FAILED', 'DEAD_LETTERED');
CREATE TYPE worker_status AS ENUM ('ONLINE', 'DRAINING', 'OFFLINE');

CREATE TABLE queues (
  name              text PRIMARY KEY CONSTRAINT queues_name_format CHECK (name ~ '^[a-zA-Z0-9._-]{1,128}$'),
  max_retries       integer NOT NULL DEFAULT 3 CHECK (max_retries >= 0),
  ttl_seconds       integer CHECK (ttl_seconds > 0),               -- NULL: PENDING jobs never expire
  backoff_base_ms   integer NOT NULL DEFAULT 1000 CHECK (backoff_base_ms > 0),
  backoff_max_ms    integer NOT NULL DEFAULT 300000,
  timeout_seconds   integer CHECK (timeout_seconds > 0),           -- NULL: no execution timeout
  max_concurrency   integer CHECK (max_concurrency > 0),           -- NULL: unlimited
  paused            boolean NOT NULL DEFAULT false,
  retention_seconds integer NOT NULL DEFAULT 604800 CHECK (retention_seconds >= 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT queues_backoff_range CHECK (backoff_max_ms >= backoff_base_ms)
);

CREATE TABLE jobs (
  id               uuid PRIMARY KEY,                               -- UUIDv7: time-ordered
  queue            text NOT NULL REFERENCES queues (name),
  payload          bytea NOT NULL,
  status           job_status NOT NULL DEFAULT 'PENDING',
  status_reason    text NOT NULL DEFAULT 'SUBMITTED',              -- reason of the last transition
  priority         smallint NOT NULL DEFAULT 0,                    -- higher runs first
  attempt          integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),-- fencing token of a delivery
  retry_count      integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
  max_retries      integer CHECK (max_retries >= 0),               -- NULL: the queue's
  timeout_seconds  integer CHECK (timeout_seconds > 0),            -- NULL: the queue's
  not_before       timestamptz,                                    -- delayed start or backoff
  idempotency_key  text,
  worker_id        uuid,
  lease_expires_at timestamptz,                                    -- ASSIGNED: delivery lease; RUNNING: execution deadline
  result           bytea,
  error_message    text,
  metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  assigned_at      timestamptz,
  started_at       timestamptz,
  completed_at     timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Idempotent submit: one job per (queue, key); concurrent repeats meet on this index.
CREATE UNIQUE INDEX jobs_queue_idempotency_key_key ON jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Claiming: PENDING jobs of a queue by priority, then age (UUIDv7 id order is creation order).
CREATE INDEX jobs_claim_idx ON jobs (queue, priority DESC, id) WHERE status = 'PENDING';
-- ListJobs by queue and status, depth per status, dead letters of a queue (keyset on id).
CREATE INDEX jobs_queue_status_id_idx ON jobs (queue, status, id);
-- ListJobs by status across queues.
CREATE INDEX jobs_status_id_idx ON jobs (status, id);
-- Jobs a worker holds (slot accounting, worker lost, deregister).
CREATE INDEX jobs_worker_held_idx ON jobs (worker_id) WHERE status IN ('ASSIGNED', 'RUNNING');
-- Expired delivery leases and execution deadlines.
CREATE INDEX jobs_lease_expiry_idx ON jobs (lease_expires_at) WHERE status IN ('ASSIGNED', 'RUNNING') AND lease_expires_at IS NOT NULL;
-- Delayed and backoff jobs becoming due (wakes dispatchers).
CREATE INDEX jobs_pending_due_idx ON jobs (not_before) WHERE status = 'PENDING' AND not_before IS NOT NULL;
-- TTL expiry and oldest pending age per queue.
CREATE INDEX jobs_pending_age_idx ON jobs (queue, created_at) WHERE status = 'PENDING';
-- Retention of finished jobs.
CREATE INDEX jobs_finished_idx ON jobs (queue, completed_at) WHERE status IN ('DONE', 'DEAD_LETTERED');

-- Insert-only audit log; GetJobLogs reads it. No foreign key to jobs: retention deletes both, and
-- the check would cost every event insert on the hottest path.
CREATE TABLE job_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id      uuid NOT NULL,
  queue       text NOT NULL,
  event_type  text NOT NULL,
  from_status job_status,                                          -- NULL for the first event
  to_status   job_status NOT NULL,
  reason      text NOT NULL,
  worker_id   uuid,
  attempt     integer NOT NULL,
  message     text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_events_job_id_idx ON job_events (job_id, id);

-- Transactional outbox (SPEC §6): events not yet acknowledged by Kafka, relayed in id order by
-- the scheduler leader and deleted once acknowledged.
CREATE TABLE outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id   bigint NOT NULL UNIQUE,                               -- job_events.id; retention keeps events still here
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workers (
  worker_id      uuid PRIMARY KEY,
  hostname       text NOT NULL,
  sdk_version    text NOT NULL DEFAULT '',
  queues         text[] NOT NULL,
  concurrency    integer NOT NULL CHECK (concurrency > 0),
  status         worker_status NOT NULL DEFAULT 'ONLINE',
  node_id        text,                                             -- API replica holding its stream
  labels         jsonb NOT NULL DEFAULT '{}'::jsonb,
  registered_at  timestamptz NOT NULL DEFAULT now(),
  last_heartbeat timestamptz NOT NULL DEFAULT now()
);
-- Stale workers: live workers by last heartbeat.
CREATE INDEX workers_stale_idx ON workers (last_heartbeat) WHERE status <> 'OFFLINE';

-- Keys generated once per cluster, shared by every replica: today the HMAC key that makes
-- ListJobs page tokens tamper-evident.
CREATE TABLE cluster_secrets (
  name       text PRIMARY KEY,
  secret     bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO cluster_secrets (name, secret)
-- gen_random_uuid() draws from pg_strong_random(): two of them give 244 random bits.
VALUES ('page_token_hmac', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

