import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** One dependency readiness depends on; `check` rejects when the dependency does not answer. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/**
 * An extra endpoint served next to the probes (e.g. apps/health's /status and dashboard). It gets
 * every method and answers 405 itself for the ones it does not take.
 */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ProbeServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly checks: readonly ReadinessCheck[];
  /** Per-check deadline, so a hung dependency answers 503 rather than hanging the probe. */
  readonly checkTimeoutMs?: number;
  /** Extra facts for /readyz's JSON that do not decide readiness (e.g. whether a scheduler leads). */
  readonly details?: () => Record<string, unknown>;
  /**
   * Where /metrics is served instead of the probe listener (JQ_METRICS_HOST): metrics list every
   * queue's name, so an operator may bind them to a private interface. Absent: on the probe port.
   */
  readonly metricsListener?: { readonly host: string; readonly port: number };
  /** Extra paths (exact match, query string ignored); /healthz, /readyz and /metrics cannot be overridden. */
  readonly routes?: Readonly<Record<string, HttpRoute>>;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly status: "ready" | "starting" | "shutting_down" | "unavailable";
  readonly checks: Record<string, "ok" | string>;
  readonly details?: Record<string, unknown>;
}

/**
 * The HTTP side of every process (SPEC §8): `/healthz` (the process is alive), `/readyz` (ready
 * and every dependency answers; 503 naming the failing one, and 503 from the moment shutdown
 * begins), `/metrics` (Prometheus text from prom-client).
 */
export class ProbeServer {
  private readonly server: Server;
  private readonly metricsServer: Server | undefined;
  private phase: "starting" | "ready" | "shutting_down" = "starting";
  private listening = false;

  constructor(private readonly options: ProbeServerOptions) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`internal error: ${(err as Error).message}\n`);
      });
    });
    this.server.keepAliveTimeout = 5_000;
    if (options.metricsListener) {
      this.metricsServer = createServer((req, res) => {
        const path = (req.url ?? "/").split("?")[0];
        if (path !== "/metrics") return send(res, 404, "text/plain", "not found\n");
        this.options.registry.metrics().then(
          (text) => send(res, 200, this.options.registry.contentType, text),
          (err: unknown) => send(res, 500, "text/plain", `internal error: ${(err as Error).message}\n`),
        );
      });
    }
  }

  /** The port /metrics is served on (the probe port unless a metrics listener is configured). */
  get metricsPort(): number {
    return ((this.metricsServer ?? this.server).address() as AddressInfo).port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const m = this.options.metricsListener;
    if (this.metricsServer && m) {
      const server = this.metricsServer;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(m.port, m.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    }
    this.listening = true;
  }

  markReady(): void {
    if (this.phase === "starting") this.phase = "ready";
  }

  /** Readiness fails from now on, before anything else is stopped. */
  beginShutdown(): void {
    this.phase = "shutting_down";
  }

  async stop(): Promise<void> {
    this.beginShutdown();
    if (!this.listening) return;
    this.listening = false;
    await Promise.all(
      [this.server, this.metricsServer].map(
        (server) =>
          server &&
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  async readiness(): Promise<ReadinessReport> {
    const checks: Record<string, string> = {};
    const timeoutMs = this.options.checkTimeoutMs ?? 2_000;
    await Promise.all(
      this.options.checks.map(async (c) => {
        try {
          await withTimeout(c.check(), timeoutMs, `no answer within ${timeoutMs} ms`);
          checks[c.name] = "ok";
        } catch (err) {
          checks[c.name] = (err as Error).message || String(err);
        }
      }),
    );
    const healthy = Object.values(checks).every((v) => v === "ok");
    const details = this.options.details?.();
    const extra = details === undefined ? {} : { details };
    if (this.phase !== "ready") return { ready: false, status: this.phase, checks, ...extra };
    return { ready: healthy, status: healthy ? "ready" : "unavailable", checks, ...extra };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    const routes = this.options.routes;
    const extra = path !== undefined && routes !== undefined && !BUILT_IN.has(path) && Object.hasOwn(routes, path) ? routes[path] : undefined;
    // An extra route decides for itself which methods it takes (the dashboard's actions are POST).
    if (extra) return extra(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "method not allowed\n");
    switch (path) {
      case "/healthz":
        return send(res, 200, "application/json", JSON.stringify({ status: "alive" }) + "\n");
      case "/readyz": {
        const report = await this.readiness();
        return send(res, report.ready ? 200 : 503, "application/json", JSON.stringify(report) + "\n");
      }
      case "/metrics":
        if (this.metricsServer) return send(res, 404, "text/plain", "not found: /metrics is served on JQ_METRICS_HOST\n");
        return send(res, 200, this.options.registry.contentType, await this.options.registry.metrics());
      default:
        return send(res, 404, "text/plain", "not found\n");
    }
  }
}

const BUILT_IN: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
