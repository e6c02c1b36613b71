import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";
import type { ApiStores } from "../stores.js";
import { PermissionDenied, type Principal } from "../../../libs/api-keys/index.js";
import { WORKER_SECRET_HEADER } from "../../../libs/proto/index.js";

const CACHE_LIMIT = 100_000;

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/**
 * Binds a worker id to the registration that created it (issue 13 item 2). RegisterWorker issues
 * a random secret and stores its SHA-256; every later worker call must present the secret, so a
 * caller holding a worker API key cannot act as a worker it did not register.
 *
 * The hashes are cached per replica; a mismatch re-reads the row before refusing, so a worker that
 * registered again through another replica is recognised at once. (A replica may keep accepting
 * the previous secret of the same id until then; that is the same worker's older incarnation.)
 * Every reported result is verified, so the secret that last matched a cached hash is kept beside
 * it and compared in constant time before anything is hashed again.
 */
export class WorkerCredentials {
  private readonly cache = new Map<string, KnownSecret>();

  constructor(private readonly workers: Pick<ApiStores["workers"], "getWorkerCredential" | "setWorkerCredential">) {}

  /**
   * Whether `principal` may register `workerId` (again): a new or OFFLINE id, the current secret,
   * or the API key that registered it.
   */
  async checkRegistration(workerId: string, metadata: Metadata, principal: Principal): Promise<void> {
    const row = await this.workers.getWorkerCredential(workerId);
    if (row === undefined || row.status === "OFFLINE" || row.secretSha256 === null) return;
    if (row.registeredBy === principal.name) return;
    if (matches(row.secretSha256, presented(metadata))) return;
    throw new PermissionDenied(`worker ${workerId} is registered by another API key; send its ${WORKER_SECRET_HEADER} to register it again`);
  }

  /** Issues and stores a new secret for `workerId`; the previous one stops working. */
  async issue(workerId: string, principal: Principal): Promise<string> {
    const secret = randomBytes(32).toString("base64url");
    const hash = sha256(secret);
    await this.workers.setWorkerCredential(workerId, hash, principal.name);
    this.remember(workerId, hash);
    return secret;
  }

  /** Throws PermissionDenied unless `metadata` carries the current secret of `workerId`. */
  async verify(workerId: string, metadata: Metadata): Promise<void> {
    const secret = presented(metadata);
    const cached = this.cache.get(workerId);
    if (cached !== undefined && cached.accepts(secret)) return;
    const row = await this.workers.getWorkerCredential(workerId);
    // An unknown worker is the handler's NOT_FOUND; a row without a secret predates 0006.
    if (row === undefined) return;
    if (secret === undefined) throw new PermissionDenied(`worker calls need the ${WORKER_SECRET_HEADER} metadata RegisterWorker returned`);
    if (row.secretSha256 === null || !matches(row.secretSha256, secret)) {
      throw new PermissionDenied(`the ${WORKER_SECRET_HEADER} does not match worker ${workerId}'s registration`);
    }
    this.remember(workerId, row.secretSha256);
  }

  private remember(workerId: string, hash: Buffer): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(workerId, new KnownSecret(hash));
  }
}

/** A worker's secret hash, and the secret that last matched it. */
class KnownSecret {
  private accepted: Buffer | undefined;

  constructor(private readonly hash: Buffer) {}

  accepts(secret: string | undefined): boolean {
    if (secret === undefined) return false;
    const presented = Buffer.from(secret);
    if (this.accepted !== undefined && presented.length === this.accepted.length && timingSafeEqual(presented, this.accepted)) return true;
    if (!matches(this.hash, secret)) return false;
    this.accepted = presented;
    return true;
  }
}

function presented(metadata: Metadata): string | undefined {
  const value = metadata.get(WORKER_SECRET_HEADER)[0];
  return typeof value === "string" && value.length > 0 && value.length <= 256 ? value : undefined;
}

function matches(hash: Buffer, secret: string | undefined): boolean {
  if (secret === undefined) return false;
  const candidate = sha256(secret);
  return candidate.length === hash.length && timingSafeEqual(candidate, hash);
}
