import type { Db } from "../postgres/db.js";
import { eventRowRelayed } from "./job-record.js";

/**
 * The one statement that deletes finished jobs: PurgeDeadLetters (and the dashboard's purge) and
 * the retention sweep. `doomed` is a constant SELECT of job ids (with its own locking) over bound
 * `params`. The jobs' events that the relay has sent go with them; events it has not sent yet stay
 * until it has (the retention sweep keeps such jobs altogether; DeleteQueue clears what is left).
 */
export async function deleteJobsWithSentEvents(db: Db, doomed: string, params: readonly unknown[]): Promise<number> {
  const { rowCount } = await db.query(
    `WITH doomed AS (${doomed}), events AS (
       DELETE FROM job_event_rows e USING doomed WHERE e.job_id = doomed.id AND ${eventRowRelayed("e")}
     )
     DELETE FROM jobs USING doomed WHERE jobs.id = doomed.id`,
    [...params],
  );
  return rowCount ?? 0;
}
