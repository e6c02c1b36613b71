import type { IncomingMessage, ServerResponse } from "node:http";
import { JqError, type ErrorKind } from "../errors/index.js";
import type { Logger } from "../logging/logger.js";
import { isConnectionError } from "../postgres/db.js";
import type { HttpRoute } from "../probes/probe-server.js";

/**
 * The HTTP plumbing of the dashboard's JSON endpoints: one error shape, one mapping from the typed
 * domain errors to HTTP statuses (the HTTP twin of apps/api's gRPC mapping), bounded JSON bodies.
 *
 *   error body: {"error": {"code": "invalid_argument", "message": "queue: is required"}}
 */

/** The page and its assets come from this process only; nothing else may load or be contacted. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A refusal the dashboard itself decides (method, media type, read-only mode, origin). */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpRefusal";
  }
}

const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid_argument: 400,
  not_found: 404,
  failed_precondition: 409,
  already_exists: 409,
  unauthenticated: 401,
  permission_denied: 403,
  resource_exhausted: 400,
  unavailable: 503,
};

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": CONTENT_SECURITY_POLICY,
  });
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(body) + "\n");
}

/** Serves fixed bytes (the page, its script, style and the chart library). */
export function sendAsset(req: IncomingMessage, res: ServerResponse, contentType: string, body: string | Buffer): void {
  res.writeHead(200, {
    "content-type": contentType,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": CONTENT_SECURITY_POLICY,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** The error as the JSON body and status a client sees; unexpected errors are logged, not shown. */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, log: Logger): void {
  if (err instanceof HttpRefusal) return sendJson(req, res, err.status, { error: { code: err.code, message: err.message } });
  if (err instanceof JqError) return sendJson(req, res, STATUS_OF_KIND[err.kind], { error: { code: err.kind, message: err.message } });
  const code = (err as { code?: string } | null)?.code;
  if (isConnectionError(err) || code === "57014" || code === "55P03" || code === "40001" || code === "40P01") {
    return sendJson(req, res, 503, { error: { code: "unavailable", message: "postgres is unavailable or busy; retry" } });
  }
  log.error({ err, path: req.url }, "dashboard request failed");
  sendJson(req, res, 500, { error: { code: "internal", message: "internal error" } });
}

/** A GET (and HEAD) endpoint answering JSON; every other method is 405. */
export function getJson(log: Logger, handler: (query: URLSearchParams) => Promise<unknown>): HttpRoute {
  return async (req, res) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        throw new HttpRefusal(405, "method_not_allowed", `${req.method} is not allowed here; use GET`);
      }
      sendJson(req, res, 200, await handler(new URL(req.url ?? "/", "http://localhost").searchParams));
    } catch (err) {
      sendError(req, res, err, log);
    }
  };
}

/** A GET (and HEAD) endpoint serving fixed bytes. */
export function getAsset(contentType: string, body: string | Buffer): HttpRoute {
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" });
      res.end("method not allowed\n");
      return;
    }
    sendAsset(req, res, contentType, body);
  };
}

/** Largest action body accepted; the biggest legitimate one (1000 job ids) is about 40 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Reads a JSON request body: `application/json`, at most MAX_BODY_BYTES, one JSON object. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpRefusal(415, "unsupported_media_type", "the body must be JSON, sent with content-type: application/json");
  }
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) throw new HttpRefusal(413, "resource_exhausted", `body: ${declared} bytes exceeds the limit of ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpRefusal(413, "resource_exhausted", `body: exceeds the limit of ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new HttpRefusal(400, "invalid_argument", `body: is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HttpRefusal(400, "invalid_argument", "body: must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}
