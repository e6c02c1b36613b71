import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalPostgres, type LocalPostgres } from "../bed/postgres.js";
import { startApi, type RunningApi } from "../support/api.js";
import { rawUnary } from "../support/raw-grpc.js";

/**
 * This file stops and restarts Postgres, so it runs its own server rather than the shared one.
 */
describe("readiness follows Postgres without a restart", () => {
  let postgres: LocalPostgres;
  let api: RunningApi;
  let base: string;

  beforeAll(async () => {
    postgres = await startLocalPostgres();
    api = await startApi(postgres.endpoint, { JQ_DATABASE_CONNECT_TIMEOUT_MS: "1000" });
    base = `http://127.0.0.1:${await api.app.ready()}`;
  });
  afterAll(async () => {
    await api?.stop();
    await postgres?.stop();
  });

  const readyz = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
  };
  const waitFor = async (want: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await readyz();
      if (r.status === want || Date.now() > deadline) return r;
      await new Promise((res) => setTimeout(res, 200));
    }
  };

  it("answers 503 naming postgres while it is down, UNAVAILABLE on calls, and 200 once it is back", async () => {
    expect((await readyz()).status).toBe(200);

    await postgres.stopServer();
    const down = await waitFor(503);
    expect(down.status).toBe(503);
    expect(down.body.checks.postgres).not.toBe("ok");
    expect(down.body.checks.postgres).toMatch(/ECONNREFUSED|connect|terminat/i);
    // A call that needs the database is UNAVAILABLE (retryable), never UNKNOWN or INTERNAL.
    const during = await rawUnary(api.address, "/jq.v1.AdminService/ListQueues", Buffer.alloc(0));
    expect(during.error?.code).toBe(14);
    // Liveness is not readiness: the process itself is fine.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await postgres.startServer();
    const up = await waitFor(200);
    expect(up).toEqual({ status: 200, body: expect.objectContaining({ checks: { postgres: "ok" } }) });
    const after = await rawUnary(api.address, "/jq.v1.AdminService/ListQueues", Buffer.alloc(0));
    expect(after.error).toBeNull();
    expect(api.app.child.exitCode).toBeNull();
  });
});
