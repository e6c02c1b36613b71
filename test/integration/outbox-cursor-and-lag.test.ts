import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJobs } from "../../libs/jobs/index.js";
import { advanceRelayCursor, measureOutboxLag, readEventsAfter, readRelayCursor } from "../../libs/outbox/outbox-store.js";
import { eventually } from "../support/eventually.js";
import { createOutboxDatabase, newJob } from "../support/outbox-load.js";
import type { TestDatabase } from "../support/postgres.js";

// The relay's statements on the event log (libs/outbox/outbox-store.ts) against real Postgres:
// positions come out in (xid, id) order with the event, the cursor only moves forward, a missing
// cursor reads as the start, and the lag counts what is past the cursor with a non-negative age.

describe("outbox cursor and lag", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createOutboxDatabase("lag");
  });
  afterAll(async () => {
    await db.drop();
  });

  it("reads events after a position with their place, moves the cursor only forward, and measures the lag", async () => {
    const start = await readRelayCursor(db.pool);
    expect(start).toEqual({ xid: "0", id: "0" });
    const empty = await measureOutboxLag(db.pool, new Date());
    expect(empty).toEqual({ rows: 0, oldestAgeMs: null });

    await submitJobs(db.pool, [newJob("lag", 1), newJob("lag", 2), newJob("lag", 3)]);
    // The read stops below the oldest transaction still open anywhere on the server (other test
    // files share it), so the new events appear once those have ended.
    let rows: Awaited<ReturnType<typeof readEventsAfter>> = [];
    await eventually("the submitted events below the horizon", async () => (rows = await readEventsAfter(db.pool, start, 2)).length === 2);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.position.id)).toEqual(rows.map((r) => r.id));
    expect(rows.every((r) => /^\d+$/.test(r.position.xid))).toBe(true);
    expect(rows[0]).toMatchObject({ eventType: "job.submitted", toStatus: "PENDING", reason: "SUBMITTED", queue: "lag" });
    expect(rows[0]).not.toHaveProperty("positionXid");

    const now = new Date();
    const lag = await measureOutboxLag(db.pool, new Date(now.getTime() + 60_000));
    expect(lag.rows).toBe(3);
    expect(lag.oldestAgeMs).toBeGreaterThanOrEqual(59_000);
    expect(Number.isInteger(lag.oldestAgeMs)).toBe(true);
    // a clock behind the database's: never a negative age
    expect((await measureOutboxLag(db.pool, new Date(now.getTime() - 60_000))).oldestAgeMs).toBe(0);

    await advanceRelayCursor(db.pool, rows[1]!.position);
    expect(await readRelayCursor(db.pool)).toEqual(rows[1]!.position);
    expect((await measureOutboxLag(db.pool, new Date())).rows).toBe(1);
    await advanceRelayCursor(db.pool, rows[0]!.position); // backwards: ignored
    expect(await readRelayCursor(db.pool)).toEqual(rows[1]!.position);
    let rest: Awaited<ReturnType<typeof readEventsAfter>> = [];
    await eventually("the third event below the horizon", async () => (rest = await readEventsAfter(db.pool, rows[1]!.position, 10)).length === 1);
    expect(rest).toHaveLength(1);
    expect(rest[0]!.position.id > rows[1]!.position.id || rest[0]!.position.xid > rows[1]!.position.xid).toBe(true);
  });
  it("reads a missing cursor as the start of the log", async () => {
    await db.pool.query("DELETE FROM relay_cursors");
    expect(await readRelayCursor(db.pool)).toEqual({ xid: "0", id: "0" });
  });
});
