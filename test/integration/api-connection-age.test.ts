import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobStatus, type WatchJobResponse } from "../../libs/proto/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const MAGIC = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const AGE_MS = 2000;
const GRACE_MS = 4000;

/**
 * Issue 13 item 7, the rest: a client that trickles the HTTP/2 preface (or sends the magic and
 * never its SETTINGS) is reset at the handshake deadline, not only by keepalive much later; and a
 * connection is asked to go at JQ_GRPC_MAX_CONNECTION_AGE_MS, lets its in-flight calls finish
 * within JQ_GRPC_MAX_CONNECTION_AGE_GRACE_MS, and is cut after it.
 */
describe("apps/api: handshake deadline on the whole preface, and max connection age", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, {
      JQ_GRPC_HANDSHAKE_TIMEOUT_MS: "500",
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

  /** Connects, feeds the socket with `feed`, and resolves with how long the server took to close it (or "open" after 5 s). */
  const closedAfter = async (feed: (socket: net.Socket) => NodeJS.Timeout | undefined) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((r) => socket.once("connect", r));
    const started = Date.now();
    const timer = feed(socket);
    const result = await Promise.race([
      new Promise<number>((r) => socket.once("close", () => r(Date.now() - started))),
      new Promise<"open">((r) => setTimeout(() => r("open"), 5000)),
    ]);
    clearInterval(timer);
    socket.destroy();
    return result;
  };

  it("resets a client that sends the magic and never its SETTINGS frame", async () => {
    const t = await closedAfter((s) => {
      s.write(MAGIC);
      return undefined;
    });
    expect(t).not.toBe("open");
    expect(t).toBeLessThan(2000);
  });

  it("resets a client that trickles the preface a byte at a time past the deadline", async () => {
    // A byte every 20 ms: the 24 magic bytes are in before the 500 ms deadline, the 69 bytes of
    // SETTINGS frame after them are not.
    const preface = Buffer.concat([MAGIC, Buffer.from([0, 0, 60, 4, 0, 0, 0, 0, 0]), Buffer.alloc(60)]);
    const t = await closedAfter((s) => {
      let i = 0;
      return setInterval(() => {
        if (!s.destroyed && i < preface.length) s.write(preface.subarray(i, ++i));
      }, 20);
    });
    expect(t).not.toBe("open");
    expect(t).toBeLessThan(2000);
  });

  it("a prompt client is served as before", async () => {
    const c = api.client();
    const { queues } = await c.call(c.admin, "listQueues", { pageSize: 1, pageToken: "" });
    expect(Array.isArray(queues)).toBe(true);
  });

  it("asks a connection to go at its max age, lets an in-flight call finish within the grace, then cuts it", async () => {
    const c = api.client();
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
  });
});
