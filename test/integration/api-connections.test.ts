import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";

/**
 * Issue 13 item 7: idle and half-open (slowloris) connections are reaped, a per-process cap
 * refuses more with a clear log line, and idle gRPC connections are closed after the idle limit.
 */
describe("apps/api reaps and caps connections", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, {
      JQ_GRPC_HANDSHAKE_TIMEOUT_MS: "500",
      JQ_GRPC_MAX_CONNECTIONS: "5",
      JQ_GRPC_MAX_CONNECTION_IDLE_MS: "1500",
      JQ_GRPC_KEEPALIVE_TIME_MS: "1000",
      JQ_GRPC_KEEPALIVE_TIMEOUT_MS: "500",
    });
    port = Number(api.address.split(":")[1]);
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  /** Opens a raw TCP connection and resolves when the server closes it (with the time it took). */
  const connect = () =>
    new Promise<{ socket: net.Socket; closed: Promise<number> }>((resolve, reject) => {
      const started = Date.now();
      const socket = net.connect(port, "127.0.0.1");
      const closed = new Promise<number>((res) => socket.once("close", () => res(Date.now() - started)));
      socket.on("error", () => {});
      socket.once("connect", () => resolve({ socket, closed }));
      socket.once("error", reject);
    });

  it("closes a connection that sends nothing within the handshake timeout", async () => {
    const silent = await connect();
    expect(await silent.closed).toBeLessThan(3000);
  });

  it("refuses connections over JQ_GRPC_MAX_CONNECTIONS at once and says so in the log", async () => {
    const held = await Promise.all(Array.from({ length: 5 }, connect));
    try {
      await new Promise((r) => setTimeout(r, 100));
      const extra = await connect();
      expect(await extra.closed).toBeLessThan(400);
      const logged = () => api.app.logs.some((l) => l.msg === "connection limit reached (JQ_GRPC_MAX_CONNECTIONS): refusing new gRPC connections" && l.limit === 5);
      await eventually("the connection-limit log line", logged, 10_000);
      expect(logged()).toBe(true);
    } finally {
      for (const h of held) h.socket.destroy();
      await Promise.all(held.map((h) => h.closed));
    }
  });

  it("closes an idle gRPC connection after JQ_GRPC_MAX_CONNECTION_IDLE_MS; a call after that reconnects", async () => {
    const client = api.client();
    await client.call(client.admin, "listQueues", { pageSize: 1, pageToken: "" });
    const channel = client.jobs.getChannel();
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
    const deadline = Date.now() + 5000;
    while (channel.getConnectivityState(false) === grpc.connectivityState.READY && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(channel.getConnectivityState(false)).not.toBe(grpc.connectivityState.READY);
    await client.call(client.admin, "listQueues", { pageSize: 1, pageToken: "" });
  });
});
