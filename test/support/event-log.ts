// SQL for tests that look at the event log as the relay does (docs/write-path.md).

/** True for an event of alias `e` that the relay has not sent yet: past the cursor. */
export const UNRELAYED = "(e.xid, e.id) > (SELECT rc.xid, rc.event_id FROM relay_cursors rc WHERE rc.name = 'kafka')";

/** Moves the relay's cursor to the last event of `jobId`, as if Kafka had acknowledged up to it. */
export const RELAY_UP_TO_JOB = `
  UPDATE relay_cursors SET xid = e.xid, event_id = e.id
  FROM (SELECT xid, id FROM job_events WHERE job_id = $1 ORDER BY xid DESC, id DESC LIMIT 1) e
  WHERE name = 'kafka'`;
