import { readFileSync } from "node:fs";
import net from "node:net";

// A free port for a service to bind: a random one below the kernel's ephemeral range, probed by
// binding and releasing it. Ports the kernel hands out (port 0) come from the ephemeral range,
// where every outgoing connection of this machine also takes its local port: between the probe
// and a service's bind (seconds for a pm2 replica), a connection of a cluster already running
// took the port, and the replica failed with EADDRINUSE (quick-start-side-by-side, once in CI).
// Below that range only a listener can hold a port, and the probe sees listeners. Another process
// could still take the port before the service binds it; each service start fails loudly (the
// readiness wait sees the process exit) rather than silently sharing a port.

/** The lowest port this picks; below it sit well-known and registered services. */
const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (Linux; 32768, its default, elsewhere). */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether `port` can be listened on now (0: whichever the kernel picks); the port, or null. */
function probe(port: number, host: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" || err.code === "EACCES" ? resolve(null) : reject(err)));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a listening socket"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Whether nothing listens on `port` now. */
export async function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return (await probe(port, host)) !== null;
}

/**
 * A port nothing listens on, below the ephemeral range; `room` more free ports may be asked to
 * follow it (the caller probes them). Falls back to one the kernel picks when that range is full.
 */
export async function findFreePort(host = "127.0.0.1", room = 0): Promise<number> {
  const highest = ephemeralStart() - 1 - room;
  for (let attempt = 0; highest > LOWEST && attempt < 200; attempt++) {
    const port = await probe(LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1)), host);
    if (port !== null) return port;
  }
  const port = await probe(0, host);
  if (port === null) throw new Error("no free port");
  return port;
}
