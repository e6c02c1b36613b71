import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { expectCode, startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";

/** Recurring schedules: the AdminService RPCs, and two scheduler replicas firing each tick once. */
describe("cron schedules through pg-boss", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;
  const schedulers: AppProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url);
    c = api.client();
    for (const n of [1, 2]) {
      schedulers.push(startApp("scheduler", { JQ_DATABASE_URL: db.url, JQ_NODE_ID: `cron-${n}`, JQ_LEADER_LEASE_MS: "2000", JQ_CRON_MONITOR_INTERVAL_SECONDS: "1" }));
    }
    await Promise.all(schedulers.map((s) => s.ready()));
    // A paused queue keeps the fired jobs PENDING where the test can count them.
    await c.call(c.admin, "createQueue", { name: "nightly", paused: true });
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    for (const s of schedulers) expect(await s.stop()).toBe(0);
    await db.drop();
  });

  it("creates, lists and deletes schedules, refusing bad ones precisely", async () => {
    const base = { queue: "nightly", cron: "0 3 * * *", timeZone: "Europe/Paris", payload: Buffer.from("x"), priority: 0, metadata: {} };
    const { schedule } = await c.call(c.admin, "createSchedule", { ...base, name: "tmp" });
    expect(schedule).toMatchObject({ name: "tmp", queue: "nightly", cron: "0 3 * * *", timeZone: "Europe/Paris", enabled: true });
    expect(schedule!.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    await expectCode(c.call(c.admin, "createSchedule", { ...base, name: "tmp" }), grpc.status.ALREADY_EXISTS);
    await expectCode(c.call(c.admin, "createSchedule", { ...base, name: "x", cron: "every day" }), grpc.status.INVALID_ARGUMENT, /^cron: /);
    await expectCode(c.call(c.admin, "createSchedule", { ...base, name: "x", timeZone: "Mars/Base" }), grpc.status.INVALID_ARGUMENT, /^time_zone: /);
    await expectCode(c.call(c.admin, "createSchedule", { ...base, name: "x", queue: "ghost" }), grpc.status.NOT_FOUND, /queue "ghost"/);
    expect((await c.call(c.admin, "listSchedules", { queue: "nightly", pageSize: 0, pageToken: "" })).schedules.map((s) => s.name)).toEqual(["tmp"]);
    await expectCode(c.call(c.admin, "deleteQueue", { name: "nightly", force: false }), grpc.status.FAILED_PRECONDITION, /schedule/);
    await c.call(c.admin, "deleteSchedule", { name: "tmp" });
    await expectCode(c.call(c.admin, "deleteSchedule", { name: "tmp" }), grpc.status.NOT_FOUND);
  });

  it("with two scheduler replicas, an every-minute schedule submits exactly one job per tick", async () => {
    await c.call(c.admin, "createSchedule", { name: "every-minute", queue: "nightly", cron: "* * * * *", timeZone: "", payload: Buffer.from("tick"), priority: 3, metadata: { origin: "cron" } });
    const ticks = async () =>
      (
        await db.pool.query<{ tick: string; n: number }>(
          "SELECT metadata->>'jq.schedule_tick' AS tick, count(*)::int AS n FROM jobs WHERE metadata->>'jq.schedule' = 'every-minute' GROUP BY 1 ORDER BY 1",
        )
      ).rows;
    // Two ticks: the second one's firing is the event after which no replica can still be firing
    // the first, so the first tick's count is final (the latest one is checked too: 2 is never right).
    await eventually("two ticks of the every-minute schedule", async () => (await ticks()).length >= 2, 150_000, 500);
    const fired = await ticks();
    expect(fired.length).toBeGreaterThanOrEqual(2);
    for (const t of fired) expect(t).toEqual({ tick: t.tick, n: 1 });
    const job = (await db.pool.query("SELECT priority, payload, metadata FROM jobs WHERE metadata->>'jq.schedule' = 'every-minute' LIMIT 1")).rows[0];
    expect(job).toMatchObject({ priority: 3, payload: Buffer.from("tick"), metadata: expect.objectContaining({ origin: "cron" }) });
    // Minutes apart, on the minute.
    const [a, b] = fired.map((t) => new Date(t.tick).getTime());
    expect((b! - a!) % 60_000).toBe(0);
  }, 200_000);
});
