import net from "node:net";
import path from "node:path";
import { findFreePort } from "./free-port.js";
import { createScratchDir } from "./scratch-dir.js";
import { startServiceProcess, type ServiceProcess } from "./service-process.js";
import { stopOnlyOnce, type StartedService } from "./started-service.js";
import { waitUntil } from "./wait-until.js";

// A throwaway local redis-server with persistence off: nothing it holds outlives the run.

/** Sends one inline PING and resolves when the server answers +PONG. */
export async function pingRedis(port: number, host = "127.0.0.1"): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let reply = "";
    socket.setTimeout(1000, () => socket.destroy(new Error("PING timed out")));
    socket.once("error", reject);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (!reply.includes("\r\n")) return;
      socket.destroy();
      if (reply.startsWith("+PONG")) resolve();
      else reject(new Error(`unexpected reply to PING: ${reply.trim()}`));
    });
    socket.once("close", () => reject(new Error("connection closed before +PONG")));
  });
}

/** A local redis-server; `pid` lets a caller read its CPU time (the bench). */
export interface LocalRedis extends StartedService<string> {
  /** The current server's pid (a new one after `startServer()`). */
  readonly pid: number;
  /** Stops the server (SIGTERM, or SIGKILL for a crash); clients get connection refused. */
  stopServer(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port (empty: persistence is off); resolves once it answers PING. */
  startServer(): Promise<void>;
}

export async function startLocalRedis(): Promise<LocalRedis> {
  const scratch = await createScratchDir("redis");
  let server: ServiceProcess | undefined;
  const stop = stopOnlyOnce(async () => {
    await server?.stop("SIGTERM", 5_000);
    await scratch.remove();
  });
  try {
    const port = await findFreePort();
    const startServer = async (): Promise<void> => {
      const started = await startServiceProcess({
        command: "redis-server",
        args: [
          "--port", String(port),
          "--bind", "127.0.0.1",
          "--save", "",
          "--appendonly", "no",
          "--dir", scratch.path,
          "--daemonize", "no",
        ],
        cwd: scratch.path,
        logFile: path.join(scratch.path, "redis.log"),
        scratchDir: scratch.path,
      });
      server = started;
      await waitUntil(() => pingRedis(port), { what: "redis", timeoutMs: 30_000, gaveUp: () => started.deathReport() });
    };
    await startServer();
    return {
      endpoint: `redis://127.0.0.1:${port}`,
      where: `127.0.0.1:${port} (pid ${server!.pid})`,
      get pid() {
        return server?.pid ?? 0;
      },
      stop,
      async stopServer(signal = "SIGTERM") {
        await server?.stop(signal, 5_000);
        server = undefined;
      },
      startServer,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
