-- Rows of up to three events, for the deferred CLAIMED event (docs/write-path.md, "The deferred
-- CLAIMED event"): a claim writes no event, and the statement that next moves the job writes the
-- CLAIMED event first, with the claim's worker, attempt and time. A result that arrives before its
-- RUNNING mark then writes CLAIMED, DELIVERED and SUCCEEDED: one row of three events, where the
-- claim used to write a row of its own. The third event (the `third_` columns) leaves the state
-- the second entered, as the second leaves the first's, and has the row's xid.
--
-- Ids: every row takes three (the identity steps by 3): the events of a row have ids n, n + 1 and
-- n + 2. Rows written before this migration keep their ids and their one or two events; the next
-- row's id is at least 3 past the last one taken, so no id is given twice.

ALTER TABLE job_event_rows ALTER COLUMN id SET INCREMENT BY 3;

ALTER TABLE job_event_rows
  ADD COLUMN third_event_type text,
  ADD COLUMN third_to_status  job_status,
  ADD COLUMN third_reason     text,
  ADD COLUMN third_worker_id  uuid,
  ADD COLUMN third_attempt    integer,
  ADD COLUMN third_message    text,
  ADD COLUMN third_created_at timestamptz,
  ADD CONSTRAINT job_event_rows_third_complete CHECK (
    (third_event_type IS NULL) = (third_to_status IS NULL) AND (third_event_type IS NULL) = (third_reason IS NULL)
    AND (third_event_type IS NULL) = (third_attempt IS NULL) AND (third_event_type IS NULL) = (third_created_at IS NULL)
    AND (third_event_type IS NULL OR next_event_type IS NOT NULL));

CREATE OR REPLACE VIEW job_events AS
SELECT e.id, r.job_id, r.queue, e.event_type, e.from_status, e.to_status, e.reason, e.worker_id, e.attempt, e.message,
       e.created_at, r.xid, r.id AS row_id
FROM job_event_rows r
CROSS JOIN LATERAL (VALUES
  (r.id, r.event_type, r.from_status, r.to_status, r.reason, r.worker_id, r.attempt, r.message, r.created_at),
  (r.id + 1, r.next_event_type, r.to_status, r.next_to_status, r.next_reason, r.next_worker_id, r.next_attempt, r.next_message,
   r.next_created_at),
  (r.id + 2, r.third_event_type, r.next_to_status, r.third_to_status, r.third_reason, r.third_worker_id, r.third_attempt,
   r.third_message, r.third_created_at)
) AS e(id, event_type, from_status, to_status, reason, worker_id, attempt, message, created_at)
WHERE e.event_type IS NOT NULL;
