import { readFileSync } from "node:fs";
import type net from "node:net";
import tls from "node:tls";
import type { Logger } from "../../libs/logging/logger.js";

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Mutual TLS: only clients presenting a certificate this CA signed get through. */
  readonly clientCaFile?: string | undefined;
}

/**
 * TLS for apps/api's connection gate (connection-gate.ts): the gate, not grpc-js, decrypts, so its
 * handshake deadline covers the TLS handshake and then the HTTP/2 preface read from the decrypted
 * stream, as in plaintext; grpc-js gets the decrypted socket through an insecure injector.
 *
 * A `tls.Server` that never listens does the work: the gate hands it each accepted socket as a
 * 'connection', and it answers 'secureConnection' with the decrypted socket once the handshake is
 * done and, under mutual TLS, the client's certificate checked. A bare `new tls.TLSSocket(socket,
 * { isServer: true })` would not do: it only refuses a client sending no certificate, and lets one
 * through whose certificate the client CA did not sign (that check is the server's, on 'secure').
 * ALPN offers "h2" only, as grpc-js's own secure server does; a client that negotiates none gets
 * Node's HTTP/2 refusal. Handshake errors (a bad or missing client certificate, plaintext to the
 * TLS port) close that socket and are logged at debug.
 */
export class TlsTermination {
  private readonly server: tls.Server;
  /** The accepted sockets whose handshake is under way, by peer address and port. */
  private readonly pending = new Map<string, (socket: tls.TLSSocket) => void>();

  constructor(
    files: TlsFiles,
    handshakeTimeoutMs: number,
    private readonly log: Logger,
  ) {
    const ca = files.clientCaFile === undefined ? undefined : readFileSync(files.clientCaFile);
    this.server = tls.createServer({
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
      ...(ca === undefined ? {} : { ca, requestCert: true, rejectUnauthorized: true }),
      ALPNProtocols: ["h2"],
      // The gate's deadline (from the TCP accept, a reset) ends a slow handshake; Node's own timer
      // (120 s by default, which 0 does not turn off) is moved behind it, so a deadline set above
      // 120 s holds too.
      handshakeTimeout: handshakeTimeoutMs + 1000,
    });
    this.server.on("secureConnection", (socket: tls.TLSSocket) => {
      const key = peerKey(socket);
      const secure = this.pending.get(key);
      this.pending.delete(key);
      if (secure === undefined) return socket.destroy();
      secure(socket);
    });
    this.server.on("tlsClientError", (err: Error, socket: tls.TLSSocket) => {
      // A refused client certificate has its reason here; the error is then only the hang-up.
      const reason = socket.authorizationError ?? err.message;
      this.log.debug({ remote: socket.remoteAddress, reason: String(reason) }, "closing a connection whose TLS handshake failed");
      socket.destroy();
    });
  }

  /**
   * Starts the server side of a TLS handshake on `socket` (just accepted); `secure` gets the
   * decrypted socket once the handshake succeeds. Until then, and if it fails, nothing is called:
   * the gate's deadline and the socket's 'close' end it.
   */
  accept(socket: net.Socket, secure: (decrypted: tls.TLSSocket) => void): void {
    // The decrypted socket is made inside the tls.Server; the TCP peer (address and port) is what
    // names the connection on both sides, and no two open connections share it.
    if (socket.remoteAddress === undefined) return void socket.destroy();
    const key = peerKey(socket);
    this.pending.set(key, secure);
    socket.once("close", () => {
      if (this.pending.get(key) === secure) this.pending.delete(key);
    });
    this.server.emit("connection", socket);
  }
}

function peerKey(socket: net.Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
