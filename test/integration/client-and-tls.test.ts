import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { JobServiceService, type SubmitJobRequest } from "../../libs/proto/index.js";
import { expectCode, startApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const req: SubmitJobRequest = { queue: "q", payload: Buffer.from("x"), metadata: {}, priority: 0, idempotencyKey: "" };

describe("JqClient against a real grpc-js server", () => {
  let server: grpc.Server;
  let address: string;
  const outcomes: (grpc.status | "ok")[] = [];
  let calls = 0;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(JobServiceService, {
      submitJob: (_call: grpc.ServerUnaryCall<SubmitJobRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        calls++;
        const next = outcomes.shift() ?? "ok";
        if (next === "ok") cb(null, { job: undefined, deduplicated: false });
        else cb({ code: next, details: `scripted ${grpc.status[next]}` });
      },
    } as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise<void>((res) => server.tryShutdown(() => res()));
  });

  it("retries UNAVAILABLE and succeeds within its attempts", async () => {
    const c = new JqClient({ address, maxAttempts: 3 });
    outcomes.push(grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE);
    calls = 0;
    await c.call(c.jobs, "submitJob", req);
    expect(calls).toBe(3);
    c.close();
  });

  it("gives up after maxAttempts, and never retries a non-retryable code", async () => {
    const c = new JqClient({ address, maxAttempts: 2 });
    outcomes.push(grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE);
    calls = 0;
    await expectCode(c.call(c.jobs, "submitJob", req), grpc.status.UNAVAILABLE);
    expect(calls).toBe(2);
    outcomes.length = 0;
    outcomes.push(grpc.status.INVALID_ARGUMENT);
    calls = 0;
    await expectCode(c.call(c.jobs, "submitJob", req), grpc.status.INVALID_ARGUMENT, /scripted/);
    expect(calls).toBe(1);
    c.close();
  });

  it("puts a deadline on every call", async () => {
    const silent = new grpc.Server();
    silent.addService(JobServiceService, { submitJob: () => {} } as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((res, rej) =>
      silent.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    const c = new JqClient({ address: `127.0.0.1:${port}`, deadlineMs: 300, maxAttempts: 1 });
    const started = Date.now();
    await expectCode(c.call(c.jobs, "submitJob", req), grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(3000);
    c.close();
    silent.forceShutdown();
  });
});

describe("TLS and mutual TLS on apps/api", () => {
  let dir: string;
  let db: TestDatabase;
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jq-tls-"));
    // Self-signed certificates: each one is its own CA, which is all a test needs.
    // "stranger" is a client certificate the client CA did not sign.
    for (const who of ["server", "client", "stranger"]) {
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-keyout", file(`${who}.key`), "-out", file(`${who}.crt`),
        "-subj", `/CN=jq-test-${who}`, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ], { stdio: "ignore" });
    }
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves TLS to a client that trusts the server's CA, and refuses plaintext", async () => {
    const api = await startApi(db.url, { JQ_TLS_CERT_FILE: file("server.crt"), JQ_TLS_KEY_FILE: file("server.key") });
    try {
      const tls = new JqClient({ address: api.address, tls: { caFile: file("server.crt") }, maxAttempts: 1 });
      const res = await tls.call(tls.admin, "listQueues", { pageSize: 0, pageToken: "" });
      expect(res.queues).toEqual([]);
      tls.close();
      const plain = new JqClient({ address: api.address, maxAttempts: 1, deadlineMs: 2000 });
      await expectCode(plain.call(plain.admin, "listQueues", { pageSize: 0, pageToken: "" }), grpc.status.UNAVAILABLE);
      plain.close();
    } finally {
      expect(await api.stop()).toBe(0);
    }
  });

  it("with a client CA, accepts only clients that present a certificate it signed, not one without or with another", async () => {
    const api = await startApi(db.url, {
      JQ_TLS_CERT_FILE: file("server.crt"),
      JQ_TLS_KEY_FILE: file("server.key"),
      JQ_TLS_CLIENT_CA_FILE: file("client.crt"),
    });
    try {
      const mutual = new JqClient({
        address: api.address,
        tls: { caFile: file("server.crt"), certFile: file("client.crt"), keyFile: file("client.key") },
        maxAttempts: 1,
      });
      await mutual.call(mutual.admin, "listQueues", { pageSize: 0, pageToken: "" });
      mutual.close();
      const anonymous = new JqClient({ address: api.address, tls: { caFile: file("server.crt") }, maxAttempts: 1, deadlineMs: 2000 });
      await expectCode(anonymous.call(anonymous.admin, "listQueues", { pageSize: 0, pageToken: "" }), grpc.status.UNAVAILABLE);
      anonymous.close();
      const stranger = new JqClient({
        address: api.address,
        tls: { caFile: file("server.crt"), certFile: file("stranger.crt"), keyFile: file("stranger.key") },
        maxAttempts: 1,
        deadlineMs: 2000,
      });
      await expectCode(stranger.call(stranger.admin, "listQueues", { pageSize: 0, pageToken: "" }), grpc.status.UNAVAILABLE);
      stranger.close();
      // The refused handshakes cost the server nothing: a signed client still gets in.
      const again = new JqClient({
        address: api.address,
        tls: { caFile: file("server.crt"), certFile: file("client.crt"), keyFile: file("client.key") },
        maxAttempts: 1,
      });
      await again.call(again.admin, "listQueues", { pageSize: 0, pageToken: "" });
      again.close();
    } finally {
      expect(await api.stop()).toBe(0);
    }
  });
});
