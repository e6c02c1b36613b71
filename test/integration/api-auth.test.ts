import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminServiceService, JobServiceService } from "../../libs/proto/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { bearer, rawServerStream, rawUnary } from "../support/raw-grpc.js";

const KEYS = { client: "ck-0123456789", worker: "wk-0123456789", admin: "ak-0123456789" } as const;
const sha = (k: string) => createHash("sha256").update(k).digest("hex");

const jobMethods = Object.values(JobServiceService).map((m) => ({ path: m.path, stream: m.responseStream }));
const adminMethods = Object.values(AdminServiceService).map((m) => ({ path: m.path, stream: false }));

describe("auth: bearer API keys with roles on every RPC", () => {
  let db: TestDatabase;
  let api: RunningApi;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, {
      JQ_API_KEYS: `app:client:${sha(KEYS.client)},w:worker:${sha(KEYS.worker)},ops:admin:${sha(KEYS.admin)}`,
    });
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  const call = async (m: { path: string; stream: boolean }, md?: grpc.Metadata) => {
    // An empty message decodes to every field's default; auth is checked before validation.
    if (m.stream) return (await rawServerStream(api.address, m.path, Buffer.alloc(0), md, 3000)).error;
    return (await rawUnary(api.address, m.path, Buffer.alloc(0), md)).error;
  };
  const codeName = (e: grpc.ServiceError | null) => (e ? grpc.status[e.code] : "OK");

  it("does not log the keys and warns nothing about open access", () => {
    const text = JSON.stringify(api.app.logs);
    for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
    expect(api.app.logs.some((l) => String(l.msg).includes("NO API KEYS"))).toBe(false);
  });

  it.each(jobMethods)("JobService $path: no key → UNAUTHENTICATED, worker → PERMISSION_DENIED, client and admin → admitted", async (m) => {
    expect(codeName(await call(m))).toBe("UNAUTHENTICATED");
    expect(codeName(await call(m, bearer("not-a-key")))).toBe("UNAUTHENTICATED");
    expect(codeName(await call(m, bearer(KEYS.worker)))).toBe("PERMISSION_DENIED");
    for (const key of [KEYS.client, KEYS.admin]) {
      // Admitted: the handler ran, and answered the empty request (ListJobs lists everything).
      expect(["INVALID_ARGUMENT", "OK"]).toContain(codeName(await call(m, bearer(key))));
    }
  });

  it.each(adminMethods)("AdminService $path: client and worker → PERMISSION_DENIED, admin → admitted", async (m) => {
    expect(codeName(await call(m))).toBe("UNAUTHENTICATED");
    expect(codeName(await call(m, bearer(KEYS.client)))).toBe("PERMISSION_DENIED");
    expect(codeName(await call(m, bearer(KEYS.worker)))).toBe("PERMISSION_DENIED");
    const admitted = codeName(await call(m, bearer(KEYS.admin)));
    expect(["INVALID_ARGUMENT", "OK"]).toContain(admitted);
  });

  it("lets a typed client with the right key do real work", async () => {
    const admin = api.client(KEYS.admin);
    await admin.call(admin.admin, "createQueue", { name: "authq", paused: false });
    const client = api.client(KEYS.client);
    const res = await client.call(client.jobs, "submitJob", { queue: "authq", payload: Buffer.from("x"), metadata: {}, priority: 0, idempotencyKey: "" });
    expect(res.job!.queue).toBe("authq");
  });

  it("keeps health and reflection open, for probes and grpcurl", async () => {
    const health = await rawUnary(api.address, "/grpc.health.v1.Health/Check", Buffer.alloc(0));
    expect(health.error).toBeNull();
    // HealthCheckResponse { status: SERVING (1) } is the two bytes 08 01.
    expect([...health.response!]).toEqual([0x08, 0x01]);
    // ServerReflectionRequest { list_services: "" } is 3a 00; the answer names jq's services.
    const client = new grpc.Client(api.address, grpc.credentials.createInsecure());
    const identity = (b: Buffer) => b;
    const stream = client.makeBidiStreamRequest("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", identity, identity);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      stream.once("data", resolve);
      stream.once("error", reject);
      stream.write(Buffer.from([0x3a, 0x00]));
    });
    stream.end();
    client.close();
    const text = answer.toString("latin1");
    for (const s of ["jq.v1.JobService", "jq.v1.WorkerService", "jq.v1.AdminService"]) expect(text).toContain(s);
  });
});

describe("auth: no keys configured", () => {
  it("runs open and says so loudly at start", async () => {
    const db = await createTestDatabase();
    const api = await startApi(db.url);
    try {
      const warning = api.app.logs.find((l) => String(l.msg).startsWith("NO API KEYS CONFIGURED"));
      expect(warning).toMatchObject({ level: "warn" });
      const r = await rawUnary(api.address, "/jq.v1.AdminService/ListQueues", Buffer.alloc(0));
      expect(r.error).toBeNull();
    } finally {
      expect(await api.stop()).toBe(0);
      await db.drop();
    }
  });
});
