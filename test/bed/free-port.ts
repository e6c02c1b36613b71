import net from "node:net";

// Asks the kernel for a free port by binding port 0 and releasing it. Another process could take
// the port before the service binds it; the window is a few milliseconds and each service start
// fails loudly (the readiness wait sees the process exit) rather than silently sharing a port.
export async function findFreePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
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
