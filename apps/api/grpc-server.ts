import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Config } from "../../libs/config/index.js";
import type { Logger } from "../../libs/logging/logger.js";
import { JQ_SERVICE_NAMES } from "../../libs/proto/index.js";
import type { Component } from "../../libs/runtime/index.js";
import { ConnectionGate } from "./connection-gate.js";
import { reflectionService } from "./reflection.js";
import { TlsTermination } from "./tls-termination.js";

export interface ServiceBinding {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

/**
 * The gRPC server of apps/api: jq's services, the standard health service
 * (`grpc.health.v1.Health`, what Kubernetes gRPC probes call) and server reflection
 * (reflection.ts), so grpcurl works without the .proto files (SPEC §8). Stopping marks health
 * NOT_SERVING, refuses new calls, and lets in-flight calls finish until the deadline, then cancels
 * what is left.
 */
export class GrpcServer implements Component {
  readonly name = "grpc-server";
  private readonly server: grpc.Server;
  private readonly health = new HealthImplementation({ "": "NOT_SERVING" });
  private boundPort: number | undefined;
  private readonly gate: ConnectionGate;
  private injector: { injectConnection(socket: import("node:net").Socket): void } | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    services: readonly ServiceBinding[],
  ) {
    const g = config.grpc;
    this.server = new grpc.Server({
      "grpc.max_receive_message_length": g.maxMessageBytes,
      "grpc.max_send_message_length": g.maxMessageBytes,
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.http2.min_ping_interval_without_data_ms": g.minPingIntervalMs,
      // The server pings every connection; one that does not answer in time is closed (a dead
      // peer, a half-open socket).
      "grpc.keepalive_time_ms": g.keepaliveTimeMs,
      "grpc.keepalive_timeout_ms": g.keepaliveTimeoutMs,
      // A connection without calls for this long is closed (GOAWAY); clients reconnect on demand.
      "grpc.max_connection_idle_ms": g.maxConnectionIdleMs,
      // Every connection is asked to go (GOAWAY) after this age, then cut after the grace, so
      // clients spread over replicas that started later.
      "grpc.max_connection_age_ms": g.maxConnectionAgeMs,
      "grpc.max_connection_age_grace_ms": g.maxConnectionAgeGraceMs,
    });
    // Under TLS the gate decrypts (tls-termination.ts), so grpc-js always gets plaintext HTTP/2.
    const tls = g.tls === undefined ? undefined : new TlsTermination(g.tls, g.handshakeTimeoutMs, log);
    this.gate = new ConnectionGate({ maxConnections: g.maxConnections, handshakeTimeoutMs: g.handshakeTimeoutMs, tls }, log, (socket) =>
      this.injector?.injectConnection(socket),
    );
    for (const s of services) this.server.addService(s.definition, s.implementation);
    this.health.addToServer(this.server);
    reflectionService().addToServer(this.server);
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error("gRPC server not started");
    return this.boundPort;
  }

  async start(): Promise<void> {
    const address = `${this.config.grpc.host}:${this.config.grpc.port}`;
    this.injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.boundPort = await this.gate.listen(this.config.grpc.host, this.config.grpc.port);
    for (const name of ["", ...JQ_SERVICE_NAMES]) this.health.setStatus(name, "SERVING");
    this.log.info({ grpcPort: this.boundPort, address, tls: this.config.grpc.tls !== undefined }, "gRPC server listening");
  }

  /** Health answers NOT_SERVING from here on, before the server stops taking calls. */
  beginShutdown(): void {
    for (const name of ["", ...JQ_SERVICE_NAMES]) this.health.setStatus(name, "NOT_SERVING");
  }

  async stop(): Promise<void> {
    if (this.boundPort === undefined) return;
    this.beginShutdown();
    // Stop accepting now; the listener's close completes once the last connection is gone.
    const closing = this.gate.close();
    const graceMs = Math.max(1000, this.config.shutdownTimeoutMs - 2000);
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.log.warn({ graceMs }, "in-flight gRPC calls still open at the deadline; cancelling them");
        this.server.forceShutdown();
        this.gate.destroyAll();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    this.gate.destroyAll();
    await closing;
    this.boundPort = undefined;
  }
}
