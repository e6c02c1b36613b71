import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { InvalidArgument } from "../errors/index.js";

/**
 * Opaque keyset page tokens. A token carries the last key of the page it ends and the hash of the
 * query's filters (its `scope`), and is signed with the cluster's HMAC key (table
 * cluster_secrets, shared by every API replica). A forged or edited token, or one replayed with
 * different filters, is INVALID_ARGUMENT rather than a silent jump to another part of the table.
 *
 *   token = base64url(JSON {v, s: scopeHash, k: key}) "." base64url(hmac)
 */
export class PageTokenCodec {
  constructor(private readonly key: Buffer) {
    if (key.length < 16) throw new RangeError("page token key must be at least 16 bytes");
  }

  encode(scope: string, key: readonly (string | number)[]): string {
    const body = Buffer.from(JSON.stringify({ v: 1, s: scopeHash(scope), k: key })).toString("base64url");
    return `${body}.${this.sign(body)}`;
  }

  /** The key the token ends at; `field` names the request field in the error. */
  decode(scope: string, token: string, field = "page_token"): (string | number)[] {
    const [body, mac, extra] = token.split(".");
    if (!body || !mac || extra !== undefined || token.length > 2048) throw new InvalidArgument(field, "is not a token this server issued");
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new InvalidArgument(field, "is not a token this server issued (or it was altered)");
    }
    const parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as { v?: number; s?: string; k?: unknown };
    if (parsed.v !== 1 || !Array.isArray(parsed.k)) throw new InvalidArgument(field, "has an unsupported version");
    if (parsed.s !== scopeHash(scope)) throw new InvalidArgument(field, "belongs to a request with different filters");
    return parsed.k as (string | number)[];
  }

  private sign(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}

function scopeHash(scope: string): string {
  return createHash("sha256").update(scope).digest("base64url").slice(0, 16);
}

