import type { IncomingMessage, ServerResponse } from "node:http";
import type { ProbeRoute } from "../probes/probe-server.js";
import type { ClusterSnapshot } from "./cluster-snapshot.js";
import { DASHBOARD_HTML } from "./dashboard-page.js";

/** apps/health's extra HTTP paths: `/status` (the snapshot as JSON) and `/` (the dashboard). */
export function healthRoutes(snapshot: () => Promise<ClusterSnapshot>): Record<string, ProbeRoute> {
  return {
    "/status": async (req, res) => send(req, res, "application/json", JSON.stringify(await snapshot()) + "\n"),
    "/": async (req, res) => send(req, res, "text/html; charset=utf-8", DASHBOARD_HTML),
  };
}

function send(req: IncomingMessage, res: ServerResponse, contentType: string, body: string): void {
  res.writeHead(200, {
    "content-type": contentType,
    "cache-control": "no-store",
    // The page needs nothing from elsewhere; say so, so a browser refuses anything that tries.
    "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
