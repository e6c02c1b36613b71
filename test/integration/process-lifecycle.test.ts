import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "../support/app-process.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

describe("a jq process's life: config, probes, dry run, SIGTERM", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("stops at start with exit 78 and a message naming the bad key", async () => {
    const app = startApp("api", { JQ_DATABASE_URL: db.url, JQ_GRPC_PORT: "eighty", JQ_MAX_BATCH_SIZE: "0" });
    expect(await app.exited()).toBe(78);
    expect(app.stderr()).toContain("JQ_GRPC_PORT (environment): expected an integer between 0 and 65535");
    expect(app.stderr()).toContain("JQ_MAX_BATCH_SIZE (environment): expected an integer between 1 and 100000");
  });

  it("says which setting is missing when there is no database", async () => {
    const app = startApp("scheduler", {});
    expect(await app.exited()).toBe(78);
    expect(app.stderr()).toContain("JQ_DATABASE_URL");
  });

  it.each(["api", "scheduler", "health"] as const)("%s serves /healthz, /readyz and /metrics, and exits 0 on SIGTERM", async (name) => {
    const app = startApp(name, { JQ_DATABASE_URL: db.url, [`JQ_${name.toUpperCase()}_HTTP_PORT`]: "0" });
    try {
      const port = await app.ready();
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      const report = (await ready.json()) as { details?: Record<string, unknown> };
      expect(report).toMatchObject({ ready: true, status: "ready", checks: { postgres: "ok" } });
      // The scheduler also says whether it leads (alone, it does); other apps add nothing.
      if (name === "scheduler") expect(report.details).toMatchObject({ leader: true, relay: "none" });
      else expect(report.details).toBeUndefined();
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^process_cpu_user_seconds_total\{app="[a-z]+"\} /m);
      expect(app.logs.every((l) => typeof l.time === "string" && l.app === name)).toBe(true);
    } finally {
      expect(await app.stop()).toBe(0);
    }
    expect(app.logs.map((l) => l.msg)).toContain("stopped");
  });

  it("--dry-run exits 0 when dependencies answer and 1 naming the one that does not", async () => {
    const ok = startApp("api", { JQ_DATABASE_URL: db.url }, ["--dry-run"]);
    expect(await ok.exited()).toBe(0);
    expect(ok.logs).toContainEqual(expect.objectContaining({ msg: "dry run check", dependency: "postgres", outcome: "ok" }));

    const bad = startApp("api", { JQ_DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", JQ_DATABASE_CONNECT_TIMEOUT_MS: "1000" }, ["--dry-run"]);
    expect(await bad.exited()).toBe(1);
    const check = bad.logs.find((l) => l.msg === "dry run check");
    expect(check).toMatchObject({ dependency: "postgres" });
    expect(String(check?.outcome)).toMatch(/ECONNREFUSED/);
  });
});
