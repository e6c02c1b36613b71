import { createHash } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";
import type { ApiRole, Config } from "../../../libs/config/index.js";
import { JqError } from "../../../libs/errors/index.js";
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
 * Bearer API keys (SPEC §9). Keys are configured as SHA-256 hashes; a presented key is hashed and
 * looked up, so the server never holds a usable key. With no keys configured every call is let
 * through as "anonymous" with every role, and the server says so loudly at start.
 */
export class ApiKeyAuth {
  private readonly byHash: ReadonlyMap<string, Principal>;

  constructor(keys: Config["apiKeys"]) {
    this.byHash = new Map(keys.map((k) => [k.sha256, { name: k.name, roles: k.roles, scope: new QueueScope(k.queues) }]));
  }

  get enabled(): boolean {
    return this.byHash.size > 0;
  }

  /** The caller, if it may use a method open to `allowed`; throws Unauthenticated / PermissionDenied. */
  authorize(metadata: Metadata, allowed: readonly ApiRole[]): Principal {
    if (!this.enabled) return { name: "anonymous", roles: ["client", "worker", "admin"], scope: QueueScope.ALL };
    const header = metadata.get("authorization")[0];
    if (typeof header !== "string" || header.length === 0) {
      throw new Unauthenticated("missing API key: send metadata `authorization: Bearer <key>`");
    }
    const match = /^Bearer\s+(\S{1,1024})$/i.exec(header);
    if (!match) throw new Unauthenticated("malformed authorization header: expected `Bearer <key>`");
    const principal = this.byHash.get(createHash("sha256").update(match[1]!).digest("hex"));
    if (!principal) throw new Unauthenticated("unknown API key");
    if (!principal.roles.some((r) => allowed.includes(r))) {
      throw new PermissionDenied(`API key ${principal.name} lacks the role this call needs (one of: ${allowed.join(", ")})`);
    }
    return principal;
  }
}
