import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ProbeServer } from "./probe-server.js";

describe("ProbeServer", () => {
  let server: ProbeServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const start = async (checks: ConstructorParameters<typeof ProbeServer>[0]["checks"]) => {
    server = new ProbeServer({ host: "127.0.0.1", port: 0, registry: new Registry(), checks, checkTimeoutMs: 200 });
    await server.start();
    return `http://127.0.0.1:${server.port}`;
  };

  it("is alive at once but ready only after markReady, and not ready from the start of shutdown", async () => {
    const base = await start([{ name: "postgres", check: async () => {} }]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    server!.markReady();
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ready: true, status: "ready", checks: { postgres: "ok" } });
    server!.beginShutdown();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, status: "shutting_down" });
    // markReady cannot undo a shutdown.
    server!.markReady();
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
  });

  it("names the failing dependency and gives up on a hung one at its deadline", async () => {
    const base = await start([
      { name: "postgres", check: async () => {} },
      { name: "redis", check: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")) },
      { name: "kafka", check: () => new Promise<void>(() => {}) },
    ]);
    server!.markReady();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ready: false,
      status: "unavailable",
      checks: { postgres: "ok", redis: "connect ECONNREFUSED 127.0.0.1:6379", kafka: "no answer within 200 ms" },
    });
  });

  it("serves Prometheus text and refuses other paths and methods", async () => {
    const base = await start([]);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("stops twice without error", async () => {
    await start([]);
    await server!.stop();
    await server!.stop();
  });

  it("serves extra routes by exact path, without overriding the probes", async () => {
    server = new ProbeServer({
      host: "127.0.0.1",
      port: 0,
      registry: new Registry(),
      checks: [],
      routes: {
        "/status": async (_req, res) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"ok":true}');
        },
        "/healthz": async (_req, res) => {
          res.writeHead(418);
          res.end();
        },
      },
    });
    await server.start();
    const base = `http://127.0.0.1:${server.port}`;
    expect(await (await fetch(`${base}/status?x=1`)).json()).toEqual({ ok: true });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/toString`)).status).toBe(404);
  });
});
