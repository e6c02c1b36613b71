-- Issue 13 item 8. `stream_generation` counts the job streams a worker has opened: the replica
-- that opens one takes the next number with `node_id`, and clears `node_id` at the stream's end
-- only if no newer stream took the row meanwhile, so an old replica closing a replaced stream
-- never detaches the worker from the replica that serves it now.
-- `absent_jobs` are the deliveries (job id, attempt and since when, as JSON) that the worker's last
-- reconciled heartbeat did not list although the database says the worker holds them; one still
-- absent at a later such heartbeat, a heartbeat timeout after the first, is handed back
-- (docs/worker-protocol.md).
ALTER TABLE workers ADD COLUMN stream_generation bigint NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN absent_jobs jsonb NOT NULL DEFAULT '[]'::jsonb;
