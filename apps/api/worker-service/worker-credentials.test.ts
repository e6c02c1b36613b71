import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../../libs/api-keys/index.js";
import type { WorkerCredential } from "../../../libs/workers/index.js";
import { PermissionDenied } from "../../../libs/api-keys/index.js";
import { WORKER_SECRET_HEADER } from "../../../libs/proto/index.js";
import { WorkerCredentials } from "./worker-credentials.js";

/** The workers table's credential columns, in memory: what WorkerCredentials reads and writes. */
class CredentialRows {
  readonly rows = new Map<string, WorkerCredential>();
  reads = 0;
  async getWorkerCredential(workerId: string) {
    this.reads++;
    return this.rows.get(workerId);
  }
  async setWorkerCredential(workerId: string, secretSha256: Buffer, registeredBy: string) {
    this.rows.set(workerId, { status: "ONLINE", secretSha256, registeredBy });
  }
}

const carrying = (secret: string) => {
  const m = new Metadata();
  m.set(WORKER_SECRET_HEADER, secret);
  return m;
};
const principal = { name: "key-a" } as Principal;

describe("WorkerCredentials", () => {
  it("accepts the current secret call after call without reading the row again", async () => {
    const rows = new CredentialRows();
    const credentials = new WorkerCredentials(rows);
    const secret = await credentials.issue("w1", principal);
    for (let i = 0; i < 3; i++) await credentials.verify("w1", carrying(secret));
    expect(rows.reads).toBe(0);
  });

  it("refuses a wrong secret of the same length after the right one was accepted", async () => {
    const rows = new CredentialRows();
    const credentials = new WorkerCredentials(rows);
    const secret = await credentials.issue("w1", principal);
    await credentials.verify("w1", carrying(secret));
    const wrong = (secret[0] === "A" ? "B" : "A") + secret.slice(1);
    await expect(credentials.verify("w1", carrying(wrong))).rejects.toBeInstanceOf(PermissionDenied);
    await expect(credentials.verify("w1", new Metadata())).rejects.toBeInstanceOf(PermissionDenied);
  });

  it("stops accepting the previous secret once a new one is issued, here or on another replica", async () => {
    const rows = new CredentialRows();
    const here = new WorkerCredentials(rows);
    const elsewhere = new WorkerCredentials(rows);
    const first = await here.issue("w1", principal);
    await here.verify("w1", carrying(first));
    const second = await here.issue("w1", principal);
    await expect(here.verify("w1", carrying(first))).rejects.toBeInstanceOf(PermissionDenied);
    await here.verify("w1", carrying(second));
    // Another replica learns the new secret from the row on its first mismatch.
    const third = await elsewhere.issue("w1", principal);
    await here.verify("w1", carrying(third));
    await expect(here.verify("w1", carrying(second))).rejects.toBeInstanceOf(PermissionDenied);
  });
});
