-- Recurring schedules (SPEC §7), kept by jq; the scheduler leader mirrors the enabled ones into
-- pg-boss, whose timekeeper fires each tick once, and each firing submits an ordinary job.
CREATE TABLE schedules (
  name            text PRIMARY KEY CONSTRAINT schedules_name_format CHECK (name ~ '^[a-zA-Z0-9._-]{1,128}$'),
  queue           text NOT NULL REFERENCES queues (name),
  cron            text NOT NULL,
  time_zone       text NOT NULL DEFAULT 'UTC',
  enabled         boolean NOT NULL DEFAULT true,
  payload         bytea NOT NULL,
  priority        smallint NOT NULL DEFAULT 0,
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  max_retries     integer CHECK (max_retries >= 0),
  timeout_seconds integer CHECK (timeout_seconds > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Schedules of a queue (ListSchedules by queue, DeleteQueue).
CREATE INDEX schedules_queue_idx ON schedules (queue, name);
