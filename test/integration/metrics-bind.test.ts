import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type AppProcess } from "../support/app-process.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

/** Issue 13 item 9: /metrics can be bound to its own address, away from the public probe port. */
describe("JQ_METRICS_HOST moves /metrics off the probe port", () => {
  let db: TestDatabase;
  let api: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = startApp("api", { JQ_DATABASE_URL: db.url, JQ_METRICS_HOST: "127.0.0.1", JQ_API_METRICS_PORT: "0" });
    await api.ready();
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  it("serves /metrics only on the metrics listener, and the probes only on the probe port", async () => {
    const ready = api.logs.find((l) => l.msg === "ready")!;
    const probes = `http://127.0.0.1:${ready.httpPort as number}`;
    const metrics = `http://127.0.0.1:${ready.metricsPort as number}`;
    expect(ready.metricsPort).not.toBe(ready.httpPort);
    expect((await fetch(`${probes}/metrics`)).status).toBe(404);
    expect((await fetch(`${probes}/readyz`)).status).toBe(200);
    const res = await fetch(`${metrics}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("jq_grpc_requests_total");
    expect((await fetch(`${metrics}/readyz`)).status).toBe(404);
  });
});
