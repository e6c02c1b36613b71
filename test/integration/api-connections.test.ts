import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { JobStatus, type WatchJobResponse } from "../../libs/proto/index.js";
import { HTTP2_MAGIC } from "../../apps/api/http2-preface.js";
import { startApi, type RunningApi } from "../support/api.js";
import { closedAfter, trickleHttp2Preface } from "../support/raw-connections.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";

const AGE_MS = 3000;
const GRACE_MS = 4000;

/**
 * Issue 13 item 7: idle and half-open (slowloris) connections are reaped — also one that trickles
 * the HTTP/2 preface or never sends its SETTINGS — a per-process cap refuses more with a clear log
 * line, idle gRPC connections are closed after the idle limit, and every connection is asked to go
 * at its max age, with a grace for the calls in flight.
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
      // Keepalive far away, so only the handshake deadline can reap a stalled preface here.
      JQ_GRPC_KEEPALIVE_TIME_MS: "60000",
      JQ_GRPC_MAX_CONNECTION_AGE_MS: String(AGE_MS),
      JQ_GRPC_MAX_CONNECTION_AGE_GRACE_MS: String(GRACE_MS),
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

  const tcp = () => net.connect(port, "127.0.0.1");

  it("resets a client that sends the magic and never its SETTINGS frame", async () => {
    const t = await closedAfter(tcp, "connect", (s) => {
      s.write(HTTP2_MAGIC);
      return undefined;
    });
    expect(t).not.toBe("open");
    expect(t).toBeLessThan(2000);
  });

  it("resets a client that trickles the preface a byte at a time past the deadline", async () => {
    const t = await closedAfter(tcp, "connect", trickleHttp2Preface);
    expect(t).not.toBe("open");
    expect(t).toBeLessThan(2000);
  });

  it("asks a connection to go at its max age, lets an in-flight call finish within the grace, then cuts it", async () => {
    // A connection of its own (grpc-js would otherwise share an older one with earlier tests).
    const c = new JqClient({ address: api.address, maxAttempts: 1, channelOptions: { "grpc.use_local_subchannel_pool": 1 } });
    try {
      const q = `age${Date.now()}`;
      const connectedAt = Date.now();
      await c.call(c.admin, "createQueue", { name: q, paused: true, settings: {} });
      const { results } = await c.call(c.jobs, "submitJobs", { jobs: [jobRequest(q), jobRequest(q)] });
      const [finishing, lingering] = results.map((r) => r.job!.id);
      const watch = (jobId: string) => {
        const messages: WatchJobResponse[] = [];
        const call = c.jobs.watchJob({ jobId, afterEventId: "0" }, c.metadata());
        const ended = new Promise<{ error: grpc.ServiceError | null; at: number }>((resolve) => {
          call.on("data", (m: WatchJobResponse) => messages.push(m));
          call.on("error", (e: grpc.ServiceError) => resolve({ error: e, at: Date.now() - connectedAt }));
          call.on("end", () => resolve({ error: null, at: Date.now() - connectedAt }));
        });
        let settled = false;
        void ended.then(() => (settled = true));
        return { messages, ended, settled: () => settled };
      };
      const first = watch(finishing!);
      const second = watch(lingering!);

      // The server's GOAWAY at the age (±10 % jitter): the channel stops being READY for new calls.
      const channel = c.jobs.getChannel();
      while (channel.getConnectivityState(false) === grpc.connectivityState.READY && Date.now() - connectedAt < AGE_MS * 2) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const goawayAt = Date.now() - connectedAt;
      expect(goawayAt).toBeGreaterThanOrEqual(AGE_MS * 0.9 - 50);
      expect(goawayAt).toBeLessThan(AGE_MS * 2);
      expect(first.settled() || second.settled()).toBe(false);

      // Within the grace, the first watch's job settles (a call on a new connection): the watch
      // receives it and ends cleanly on the old connection.
      await c.call(c.jobs, "cancelJob", { jobId: finishing!, message: "done within the grace" });
      const firstEnd = await first.ended;
      expect(firstEnd.error).toBeNull();
      expect(firstEnd.at).toBeLessThan(AGE_MS * 1.1 + GRACE_MS);
      expect(first.messages.at(-1)!.job).toMatchObject({ id: finishing, status: JobStatus.DEAD_LETTERED });

      // The second watch outlives the grace: the old connection is cut under it.
      const secondEnd = await second.ended;
      expect(secondEnd.error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(secondEnd.at).toBeGreaterThanOrEqual(AGE_MS * 0.9 + GRACE_MS - 100);
      expect(secondEnd.at).toBeLessThan(AGE_MS * 1.1 + GRACE_MS + 3000);
    } finally {
      c.close();
    }
  });
});
