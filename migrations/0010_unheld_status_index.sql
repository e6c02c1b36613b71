-- ListJobs by status, depth per status, dead letters and retention read jobs by (queue, status, id);
-- a worker's ASSIGNED and RUNNING jobs are read through jobs_worker_held_idx, whose set is bounded
-- by the workers' total concurrency (docs/write-path.md, "Indexes on jobs"). The index by
-- (queue, status, id) now leaves those two statuses out: every claim and every RUNNING mark wrote
-- an entry to it that only a ListJobs of held jobs read, and a held job's entry is rewritten as
-- soon as it finishes. Queries that read held jobs by queue say `status IN ('ASSIGNED', 'RUNNING')`
-- so the planner uses jobs_worker_held_idx; the others say which of the statuses below they read.
DROP INDEX jobs_queue_status_id_idx;
CREATE INDEX jobs_queue_status_id_idx ON jobs (queue, status, id) WHERE status IN ('PENDING', 'DONE', 'FAILED', 'DEAD_LETTERED');
