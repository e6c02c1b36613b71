-- One row for the two events a statement writes for the same job (docs/write-path.md, "Event
-- pairs"): a hand-off submit writes SUBMITTED and CLAIMED, a result DELIVERED and SUCCEEDED. Each
-- event stays an event of its own, with its own id, type, reason, worker, attempt and time, in
-- the `job_events` view; only the row, its header and its two index entries are shared. The
-- second event (the `next_` columns) leaves the state the first one entered, so its from_status is
-- the first one's to_status, and it has the row's xid: both were written by one transaction.
--
-- Ids: every row takes two (the identity steps by 2), the first event has the row's id and the
-- second the id after it, so events keep one order by (xid, id) and by (job_id, id), and the
-- relay's cursor may point between the two events of a row. Rows written before this migration
-- keep their ids and hold one event each.

ALTER TABLE job_events RENAME TO job_event_rows;
ALTER INDEX job_events_job_id_idx RENAME TO job_event_rows_job_id_idx;
ALTER INDEX job_events_relay_idx RENAME TO job_event_rows_relay_idx;
ALTER TABLE job_event_rows ALTER COLUMN id SET INCREMENT BY 2;

ALTER TABLE job_event_rows
  ADD COLUMN next_event_type text,
  ADD COLUMN next_to_status  job_status,
  ADD COLUMN next_reason     text,
  ADD COLUMN next_worker_id  uuid,
  ADD COLUMN next_attempt    integer,
  ADD COLUMN next_message    text,
  ADD COLUMN next_created_at timestamptz,
  ADD CONSTRAINT job_event_rows_next_complete CHECK (
    (next_event_type IS NULL) = (next_to_status IS NULL) AND (next_event_type IS NULL) = (next_reason IS NULL)
    AND (next_event_type IS NULL) = (next_attempt IS NULL) AND (next_event_type IS NULL) = (next_created_at IS NULL));

-- One row per event, as GetJobLogs, WatchJob, the dashboard and tests read them. `row_id` is the
-- row's id, for the statements that must work on rows (the relay's read, retention's deletes).
CREATE VIEW job_events AS
SELECT e.id, r.job_id, r.queue, e.event_type, e.from_status, e.to_status, e.reason, e.worker_id, e.attempt, e.message,
       e.created_at, r.xid, r.id AS row_id
FROM job_event_rows r
CROSS JOIN LATERAL (VALUES
  (r.id, r.event_type, r.from_status, r.to_status, r.reason, r.worker_id, r.attempt, r.message, r.created_at),
  (r.id + 1, r.next_event_type, r.to_status, r.next_to_status, r.next_reason, r.next_worker_id, r.next_attempt, r.next_message,
   r.next_created_at)
) AS e(id, event_type, from_status, to_status, reason, worker_id, attempt, message, created_at)
WHERE e.event_type IS NOT NULL;
