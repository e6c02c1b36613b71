import { createHash } from "node:crypto";
import type { ApiRole, Config } from "../config/index.js";
import { JqError } from "../errors/index.js";
import { QueueScope } from "./queue-scope.js";

export class Unauthenticated extends JqError {
  readonly kind = "unauthenticated";
}
export class PermissionDenied extends JqError {
  readonly kind = "permission_denied";
}

export interface Principal {
  /** The key's configured name (never the key); "anonymous" when auth is off. */
  readonly name: string;
  readonly roles: readonly ApiRole[];
  /** The queues the key may see and touch. */
  readonly scope: QueueScope;
}

/**
 * Bearer API keys (SPEC §9), shared by apps/api (gRPC metadata) and apps/health (the dashboard's
 * HTTP actions): both hand over the `authorization` value they received. Keys are configured as
 * SHA-256 hashes; a presented key is hashed and looked up, so no process holds a usable key. With
 * no keys configured every call is let through as "anonymous" with every role (apps/api says so
 * loudly at start; apps/health decides for itself whether that is allowed, see docs/health.md).
 */
export class ApiKeyAuth {
  private readonly byHash: ReadonlyMap<string, Principal>;

  constructor(keys: Config["apiKeys"]) {
    this.byHash = new Map(keys.map((k) => [k.sha256, { name: k.name, roles: k.roles, scope: new QueueScope(k.queues) }]));
  }

  get enabled(): boolean {
    return this.byHash.size > 0;
  }

  /**
   * The caller, if it may use a method open to `allowed`; throws Unauthenticated / PermissionDenied.
   * `authorization` is the value of the caller's `authorization` header or metadata entry.
   */
  authorize(authorization: unknown, allowed: readonly ApiRole[]): Principal {
    if (!this.enabled) return { name: "anonymous", roles: ["client", "worker", "admin"], scope: QueueScope.ALL };
    if (typeof authorization !== "string" || authorization.length === 0) {
      throw new Unauthenticated("missing API key: send `authorization: Bearer <key>`");
    }
    const match = /^Bearer\s+(\S{1,1024})$/i.exec(authorization);
    if (!match) throw new Unauthenticated("malformed authorization header: expected `Bearer <key>`");
    const principal = this.byHash.get(createHash("sha256").update(match[1]!).digest("hex"));
    if (!principal) throw new Unauthenticated("unknown API key");
    if (!principal.roles.some((r) => allowed.includes(r))) {
      throw new PermissionDenied(`API key ${principal.name} lacks the role this call needs (one of: ${allowed.join(", ")})`);
    }
    return principal;
  }
}
