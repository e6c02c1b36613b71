import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

/** Every process's /metrics passes `promtool check metrics` (names, units, help), with data in it. */
describe("Prometheus metrics lint clean", () => {
  let db: TestDatabase;
  let api: RunningApi;
  const procs: AppProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url);
    procs.push(startApp("scheduler", { JQ_DATABASE_URL: db.url }), startApp("health", { JQ_DATABASE_URL: db.url }));
    await Promise.all(procs.map((p) => p.ready()));
    const c = api.client();
    await c.call(c.admin, "createQueue", { name: "m", paused: false });
    await c.call(c.jobs, "submitJobs", { jobs: [jobRequest("m"), jobRequest("m")] });
    await c.call(c.jobs, "submitJob", jobRequest("ghost")).catch(() => {});
  });
  afterAll(async () => {
    for (const p of procs) expect(await p.stop()).toBe(0);
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  it.each(["api", "scheduler", "health"] as const)("%s", async (name) => {
    const proc = name === "api" ? api.app : procs[name === "scheduler" ? 0 : 1]!;
    const text = await (await fetch(`http://127.0.0.1:${await proc.ready()}/metrics`)).text();
    expect(text).toMatch(/^# HELP /m);
    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.error, "promtool must be installed (scripts/services/install.sh)").toBeUndefined();
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, output: "" });
  });
});
