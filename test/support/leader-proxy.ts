import net from "node:net";

/**
 * A TCP proxy in front of Redis or Postgres that a test can cut, as a network partition would:
 * after `cut()` it forwards nothing either way and propagates no close, so both ends keep their
 * sockets and hear nothing (the process under test sees hanging commands, the server an idle
 * client). `close()` destroys every socket.
 */
export interface CuttableProxy {
  /** `url` with its host and port replaced by the proxy's. */
  readonly url: string;
  cut(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetUrl: string): Promise<CuttableProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port);
  let isCut = false;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, target.hostname);
    track(client);
    track(upstream);
    client.on("data", (chunk) => {
      if (!isCut) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!isCut) client.write(chunk);
    });
    client.on("close", () => {
      if (!isCut) upstream.destroy();
    });
    upstream.on("close", () => {
      if (!isCut) client.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const proxied = new URL(targetUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as net.AddressInfo).port);
  return {
    url: proxied.toString(),
    cut() {
      isCut = true;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
