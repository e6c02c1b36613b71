import net from "node:net";
import type { Logger } from "../../libs/logging/logger.js";
import { clientPreface } from "./http2-preface.js";
import type { TlsTermination } from "./tls-termination.js";

const REFUSAL_LOG_EVERY_MS = 10_000;

export interface ConnectionGateOptions {
  readonly maxConnections: number;
  readonly handshakeTimeoutMs: number;
  /** Under TLS, the gate terminates it (tls-termination.ts) and grpc-js gets decrypted sockets. */
  readonly tls?: TlsTermination | undefined;
}

/**
 * The TCP listener in front of the gRPC server (issue 13 item 7). grpc-js has no connection cap
 * and no handshake deadline, so apps/api accepts sockets itself and hands each to grpc-js
 * (`Server.createConnectionInjector`):
 *
 * - at most `maxConnections` open at once; one more is closed at once, with a warning logged at
 *   most every 10 s naming JQ_GRPC_MAX_CONNECTIONS;
 * - a socket that has not completed its TLS handshake (under TLS) and then sent its whole HTTP/2
 *   client preface (the magic and a complete SETTINGS frame) within `handshakeTimeoutMs` of being
 *   accepted is reset (slowloris): the gate terminates TLS itself (tls-termination.ts), reads the
 *   preface from the decrypted stream and hands that socket, with those bytes put back, to grpc-js
 *   only once it is complete, so a client stalling its ClientHello or trickling the preface a byte
 *   at a time gets no HTTP/2 session (and no keepalive) to hide in. Idle and dead connections after
 *   the handshake are grpc-js's keepalive and max-idle settings.
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
        this.log.debug({ remote: socket.remoteAddress, bytesRead: socket.bytesRead }, "closing a connection that did not complete its handshake in time");
        // A reset, not a FIN, of the TCP socket (under TLS, that ends the TLS socket on it too).
        socket.resetAndDestroy();
      }, this.options.handshakeTimeoutMs);
      deadline.unref();
      socket.once("close", () => clearTimeout(deadline));
      // `stream` is the socket itself in plaintext, the decrypted TLS socket on it under TLS.
      const handOver = (stream: net.Socket) =>
        readPreface(stream, () => {
          clearTimeout(deadline);
          inject(stream);
        });
      if (this.options.tls) this.options.tls.accept(socket, handOver);
      else handOver(socket);
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

  /** Ends every socket still open (after the gRPC server's deadline); a TLS socket ends with its TCP socket. */
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

/**
 * Reads from `socket` until its bytes are a whole HTTP/2 client preface (or cannot be one), then
 * puts them back and calls `complete` with the socket paused: Node's HTTP/2 session takes buffered
 * bytes first. A socket that never completes it stays here until the gate's deadline resets it.
 */
function readPreface(socket: net.Socket, complete: () => void): void {
  // At most a preface's worth (about 16 KiB) is held: anything longer is complete or invalid.
  let received: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    if (clientPreface(received) === "incomplete") return;
    socket.off("data", onData);
    socket.pause();
    socket.unshift(received);
    complete();
  };
  socket.on("data", onData);
}
