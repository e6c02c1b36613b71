import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../libs/logging/logger.js";
import { JOBS_AVAILABLE_CHANNEL, QueueWaker } from "../../libs/notifications/index.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

// The waker's NOTIFY commits without waiting for a WAL flush; that setting must stay inside its
// own transaction, or every later write on the same pooled connection would lose its durability.

describe("QueueWaker", () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let listener: pg.Client;
  const heard: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // One connection, durable by its own setting (the test bed's server default is not).
    pool = new pg.Pool({ connectionString: db.url, max: 1, options: "-c synchronous_commit=on" });
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    listener.on("notification", (n) => heard.push(`${n.channel}:${n.payload}`));
    await listener.query(`LISTEN ${JOBS_AVAILABLE_CHANNEL}`);
  });
  afterAll(async () => {
    await listener.end();
    await pool.end();
    await db.drop();
  });

  it("sends one NOTIFY per queue named, and its connection stays durable afterwards", async () => {
    const local: string[] = [];
    const waker = new QueueWaker(pool, createLogger({ app: "waker-test", nodeId: "t", level: "silent" }), (q) => local.push(q));
    waker.wake(["a", "b"]);
    waker.wake(["b", "c"]);
    await waker.flush();
    // Postgres folds identical notifications of one transaction into one; "b" named twice is sent
    // once or twice depending on whether the first statement had gone out.
    await expect.poll(() => new Set(heard), { timeout: 5_000 }).toEqual(new Set(["a", "b", "c"].map((q) => `${JOBS_AVAILABLE_CHANNEL}:${q}`)));
    expect(heard.length).toBeLessThanOrEqual(4);
    await expect.poll(() => local).toEqual(["a", "b", "b", "c"]);
    const { rows } = await pool.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    expect(rows[0]!.synchronous_commit).toBe("on");
  });
});
