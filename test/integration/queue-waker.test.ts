import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../libs/logging/logger.js";
import { JOBS_AVAILABLE_CHANNEL, parseJobsAvailable, QueueWaker } from "../../libs/notifications/index.js";
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
    heard.length = 0;
    const waker = new QueueWaker(pool, createLogger({ app: "waker-test", nodeId: "t", level: "silent" }));
    waker.wake(["a", "b"]);
    waker.wake(["b", "c"]);
    await waker.flush();
    // Postgres folds identical notifications of one transaction into one; "b" named twice is sent
    // once or twice depending on whether the first statement had gone out.
    await expect.poll(() => new Set(heard), { timeout: 5_000 }).toEqual(new Set(["a", "b", "c"].map((q) => `${JOBS_AVAILABLE_CHANNEL}:${q}`)));
    expect(heard.length).toBeLessThanOrEqual(4);
    const { rows } = await pool.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    expect(rows[0]!.synchronous_commit).toBe("on");
  });

  it("fills its own replica's streams first and announces, with its origin, only the queues they left", async () => {
    heard.length = 0;
    const local: string[] = [];
    // The local streams drain "mine"; "full" they could not take (or a claim failed for "broken").
    const wake = async (q: string) => {
      local.push(q);
      if (q === "broken") throw new Error("claim failed");
      return q === "mine";
    };
    const waker = new QueueWaker(pool, createLogger({ app: "waker-test", nodeId: "t", level: "silent" }), { wake, origin: "replica-1" });
    waker.wake(["mine", "full", "broken"]);
    await waker.flush();
    expect(local).toEqual(["mine", "full", "broken"]);
    await expect.poll(() => new Set(heard), { timeout: 5_000 }).toEqual(new Set(["full", "broken"].map((q) => `${JOBS_AVAILABLE_CHANNEL}:${q} replica-1`)));
    expect(parseJobsAvailable(heard[0]!.slice(JOBS_AVAILABLE_CHANNEL.length + 1)).origin).toBe("replica-1");
  });
});
