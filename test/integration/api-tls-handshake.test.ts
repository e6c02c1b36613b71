import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { HTTP2_MAGIC } from "../../apps/api/http2-preface.js";
import { startApi, type RunningApi } from "../support/api.js";
import { closedAfter, trickleHttp2Preface } from "../support/raw-connections.js";
import { eventually } from "../support/eventually.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const HANDSHAKE_MS = 500;
/** A reset is expected within the deadline plus this (a busy machine); "open" after 5 s. */
const SLACK_MS = 1500;
const MAX_CONNECTIONS = 4;

/**
 * Issue 13 item 7 under TLS: JQ_GRPC_HANDSHAKE_TIMEOUT_MS covers the TLS handshake and then the
 * HTTP/2 preface, as in plaintext (api-connections.test.ts). A client that stalls its ClientHello,
 * or completes TLS and then withholds or trickles the preface, is reset at the deadline rather than
 * after Node's 120 s TLS handshake timeout or grpc-js's keepalive; TLS clients still work, and the
 * connection cap still counts TLS connections.
 */
describe("apps/api under TLS resets a stalled handshake at the deadline", () => {
  let dir: string;
  let db: TestDatabase;
  let api: RunningApi;
  let port: number;
  let ca: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jq-tls-handshake-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
      "-keyout", join(dir, "server.key"), "-out", join(dir, "server.crt"),
      "-subj", "/CN=jq-test-server", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ], { stdio: "ignore" });
    ca = readFileSync(join(dir, "server.crt"));
    db = await createTestDatabase();
    api = await startApi(db.url, {
      JQ_TLS_CERT_FILE: join(dir, "server.crt"),
      JQ_TLS_KEY_FILE: join(dir, "server.key"),
      JQ_GRPC_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_MS),
      JQ_GRPC_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      // Keepalive far away, so only the handshake deadline can reap a stalled handshake here.
      JQ_GRPC_KEEPALIVE_TIME_MS: "60000",
    });
    port = Number(api.address.split(":")[1]);
  });
  afterAll(async () => {
    expect(await api?.stop()).toBe(0);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tcp = () => net.connect(port, "127.0.0.1");
  const tlsClient = () => tls.connect({ port, host: "127.0.0.1", ca, ALPNProtocols: ["h2"] });

  it("resets a client that sends part of a ClientHello and stalls", async () => {
    // A TLS handshake record announcing a 512-byte ClientHello, of which only the start (record and
    // handshake headers, version, random: 43 bytes, more than an HTTP/2 preface's 24) arrives.
    const partialHello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), Buffer.alloc(32, 7)]);
    const t = await closedAfter(tcp, "connect", (s) => {
      s.write(partialHello);
      return undefined;
    });
    expect(t).not.toBe("open");
    expect(t).toBeLessThan(HANDSHAKE_MS + SLACK_MS);
  });

  it("completes TLS with ALPN h2, then resets a client that sends the magic and never its SETTINGS", async () => {
    let alpn: string | false | null = null;
    const t = await closedAfter(tlsClient, "secureConnect", (s) => {
      alpn = s.alpnProtocol;
      s.write(HTTP2_MAGIC);
      return undefined;
    });
    expect(alpn).toBe("h2");
    expect(t).not.toBe("open");
    expect(t).toBeLessThan(HANDSHAKE_MS + SLACK_MS);
  });

  it("resets a TLS client that trickles the preface a byte at a time past the deadline", async () => {
    // As in api-connections.test.ts, all inside TLS: never whole in time.
    const t = await closedAfter(tlsClient, "secureConnect", trickleHttp2Preface);
    expect(t).not.toBe("open");
    expect(t).toBeLessThan(HANDSHAKE_MS + SLACK_MS);
  });

  const tlsJqClient = () =>
    new JqClient({ address: api.address, tls: { caFile: join(dir, "server.crt") }, maxAttempts: 1, channelOptions: { "grpc.use_local_subchannel_pool": 1 } });

  it("serves a TLS client, whose connection outlives the deadline", async () => {
    const c = tlsJqClient();
    try {
      await c.call(c.admin, "listQueues", { pageSize: 0, pageToken: "" });
      // Past the handshake deadline of the connection just made: it is not reset.
      await new Promise((r) => setTimeout(r, HANDSHAKE_MS + 300));
      expect(c.admin.getChannel().getConnectivityState(false)).toBe(grpc.connectivityState.READY);
      const res = await c.call(c.admin, "listQueues", { pageSize: 0, pageToken: "" });
      expect(res.queues).toEqual([]);
    } finally {
      c.close();
    }
  });

  it("counts TLS connections against JQ_GRPC_MAX_CONNECTIONS and logs the refusal", async () => {
    const held = Array.from({ length: MAX_CONNECTIONS }, tlsJqClient);
    try {
      for (const c of held) await c.call(c.admin, "listQueues", { pageSize: 0, pageToken: "" });
      await new Promise((r) => setTimeout(r, 100));
      const t = await closedAfter(tcp, "connect", () => undefined);
      expect(t).not.toBe("open");
      expect(t).toBeLessThan(400);
      const logged = () => api.app.logs.some((l) => l.msg === "connection limit reached (JQ_GRPC_MAX_CONNECTIONS): refusing new gRPC connections" && l.limit === MAX_CONNECTIONS);
      await eventually("the connection-limit log line", logged, 10_000);
      expect(logged()).toBe(true);
    } finally {
      for (const c of held) c.close();
    }
  });
});
