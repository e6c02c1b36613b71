import net from "node:net";
import type { Logger } from "../../libs/logging/logger.js";

/** The HTTP/2 client preface is 24 bytes; a TLS ClientHello is longer. */
const PREFACE_BYTES = 24;
const REFUSAL_LOG_EVERY_MS = 10_000;

export interface ConnectionGateOptions {
  readonly maxConnections: number;
  readonly handshakeTimeoutMs: number;
}

/**
 * The TCP listener in front of the gRPC server (issue 13 item 7). grpc-js has no connection cap
 * and no handshake deadline, so apps/api accepts sockets itself and hands each to grpc-js
 * (`Server.createConnectionInjector`):
 *
 * - at most `maxConnections` open at once; one more is closed at once, with a warning logged at
 *   most every 10 s naming JQ_GRPC_MAX_CONNECTIONS;
 * - a socket that has not sent its HTTP/2 preface (or TLS hello) within `handshakeTimeoutMs` is
 *   closed (slowloris). Idle and dead connections after the handshake are grpc-js's keepalive and
 *   max-idle settings.
 */
export class ConnectionGate {
  private readonly server: net.Server;
  private readonly open = new Set<net.Socket>();
  private refusedSinceLog = 0;
  private lastRefusalLog = 0;

  constructor(
    private readonly options: ConnectionGateOptions,
    private readonly log: Logger,
    inject: (socket: net.Socket) => void,
  ) {
    this.server = net.createServer({ pauseOnConnect: false }, (socket) => {
      if (this.open.size >= this.options.maxConnections) return this.refuse(socket);
      this.open.add(socket);
      socket.once("close", () => this.open.delete(socket));
      socket.on("error", () => {});
      const deadline = setTimeout(() => {
        if (socket.bytesRead < PREFACE_BYTES) {
          this.log.debug({ remote: socket.remoteAddress, bytesRead: socket.bytesRead }, "closing a connection that did not complete its handshake in time");
          // A reset, not a FIN: the HTTP/2 session attached to the socket would otherwise keep
          // the descriptor open waiting for a preface that never comes.
          socket.resetAndDestroy();
        }
      }, this.options.handshakeTimeoutMs);
      deadline.unref();
      socket.once("close", () => clearTimeout(deadline));
      inject(socket);
    });
  }

  get connections(): number {
    return this.open.size;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting; open connections are the gRPC server's to drain. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Ends every socket still open (after the gRPC server's deadline). */
  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
  }

  private refuse(socket: net.Socket): void {
    socket.on("error", () => {});
    socket.destroy();
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastRefusalLog >= REFUSAL_LOG_EVERY_MS) {
      this.log.warn(
        { limit: this.options.maxConnections, refused: this.refusedSinceLog },
        "connection limit reached (JQ_GRPC_MAX_CONNECTIONS): refusing new gRPC connections",
      );
      this.lastRefusalLog = now;
      this.refusedSinceLog = 0;
    }
  }
}
