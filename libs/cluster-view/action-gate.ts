import type { IncomingMessage } from "node:http";
import { ApiKeyAuth, type Principal } from "../api-keys/index.js";
import type { Config } from "../config/index.js";
import { HttpRefusal } from "./dashboard-http.js";

/** How the dashboard's actions are guarded, as the page is told at `/api/session`. */
export type ActionMode = "api-keys" | "open" | "read-only";

/**
 * Who may act from the dashboard. With JQ_API_KEYS set, a request needs an `admin` key in its
 * `authorization: Bearer <key>` header, checked by the same code as apps/api's gRPC edge. Without
 * keys the dashboard is read-only, unless JQ_HEALTH_ACTIONS_WITHOUT_KEYS says otherwise.
 *
 * Cross-site request forgery: no cookie or other ambient credential exists, and a page elsewhere
 * can neither set the authorization header nor send `content-type: application/json` without a
 * CORS preflight, which this server never grants. A request whose Origin is another site is
 * refused outright as well, which also covers the keyless "open" mode.
 */
export class ActionGate {
  private readonly auth: ApiKeyAuth;
  readonly mode: ActionMode;

  constructor(config: Pick<Config, "apiKeys" | "health">) {
    this.auth = new ApiKeyAuth(config.apiKeys);
    this.mode = this.auth.enabled ? "api-keys" : config.health.actionsWithoutKeys ? "open" : "read-only";
  }

  /** The caller allowed to act, or a refusal (403 read-only or foreign origin, 401/403 from the key check). */
  admit(req: IncomingMessage): Principal {
    if (this.mode === "read-only") {
      throw new HttpRefusal(
        403,
        "read_only",
        "the dashboard is read-only: no JQ_API_KEYS are configured (set JQ_API_KEYS, or JQ_HEALTH_ACTIONS_WITHOUT_KEYS=true to allow actions without a key)",
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== "null" && !sameOrigin(origin, req.headers.host)) {
      throw new HttpRefusal(403, "foreign_origin", `requests from ${origin.slice(0, 200)} are not accepted; act from this dashboard`);
    }
    if (origin === "null") throw new HttpRefusal(403, "foreign_origin", "requests from an opaque origin are not accepted");
    return this.auth.authorize(req.headers.authorization, ["admin"]);
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
