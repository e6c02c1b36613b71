-- The submit statement checks and locks each queue row once per statement (FOR KEY SHARE, the
-- lock the foreign key took) instead of a constraint trigger running a query per inserted job
-- (docs/write-path.md, "The queue of a new job"). Only that statement inserts jobs; DeleteQueue
-- locks the queue row FOR UPDATE before deleting its jobs, so no job outlives its queue.
ALTER TABLE jobs DROP CONSTRAINT jobs_queue_fkey;

-- Raised by the submit for a job whose queue does not exist: the error the foreign key raised
-- (23503, same detail), so callers map it to NOT_FOUND naming the queue as before.
CREATE FUNCTION jq_missing_queue(queue text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RAISE foreign_key_violation
    USING MESSAGE = format('queue %s does not exist', queue),
          DETAIL = format('Key (queue)=(%s) is not present in table "queues".', queue);
END
$$;
