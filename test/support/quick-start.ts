import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findFreePort, portIsFree } from "../bed/free-port.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface QuickStartPorts {
  readonly grpc: number;
  /** Replica i of apps/api serves HTTP on api + i. */
  readonly api: number;
  readonly scheduler: number;
  readonly scheduler2: number;
  readonly health: number;
}

export interface QuickStart {
  readonly pid: number;
  readonly ports: QuickStartPorts;
  /** The HTTP port of each api replica. */
  readonly apiHttpPorts: readonly number[];
  /** Everything the launcher and pm2 printed so far. */
  output(): string;
  /** Resolves once every process answers /readyz 200. */
  ready(timeoutMs?: number): Promise<void>;
  /** A terminal's Ctrl-C: SIGINT to the launcher's whole process group. */
  interrupt(): void;
  exited(): Promise<number | null>;
  /** Ctrl-C if still running, then wait for the exit (for afterAll). */
  stop(): Promise<number | null>;
}

/** `count` consecutive free ports (pm2 numbers the api replicas' HTTP ports from a base). */
async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const base = await findFreePort("127.0.0.1", count - 1);
    let ok = base + count <= 65535;
    for (let i = 1; ok && i < count; i++) ok = await portIsFree(base + i);
    if (ok) return base;
  }
}

/**
 * Runs `npm start`'s launcher (dist/scripts/start.js, as `npm start` does after its build) on free
 * ports, as the leader of its own process group so a test can send it a terminal's Ctrl-C.
 */
export async function launchQuickStart(env: Record<string, string>, apiInstances = 2): Promise<QuickStart> {
  const ports: QuickStartPorts = {
    grpc: await findFreePort(),
    api: await freePortRun(apiInstances),
    scheduler: await findFreePort(),
    scheduler2: await findFreePort(),
    health: await findFreePort(),
  };
  const launcher = spawn(process.execPath, ["dist/scripts/start.js"], {
    cwd: root,
    detached: true,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      JQ_GRPC_PORT: String(ports.grpc),
      JQ_API_HTTP_PORT: String(ports.api),
      JQ_SCHEDULER_HTTP_PORT: String(ports.scheduler),
      SCHEDULER_2_HTTP_PORT: String(ports.scheduler2),
      JQ_HEALTH_HTTP_PORT: String(ports.health),
      PM2_API_INSTANCES: String(apiInstances),
      JQ_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  launcher.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  launcher.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
  const apiHttpPorts = Array.from({ length: apiInstances }, (_, i) => ports.api + i);
  return {
    pid: launcher.pid!,
    ports,
    apiHttpPorts,
    output: () => output,
    exited: () => exit,
    interrupt: () => process.kill(-launcher.pid!, "SIGINT"),
    stop() {
      if (launcher.exitCode === null && launcher.signalCode === null) process.kill(-launcher.pid!, "SIGINT");
      return exit;
    },
    async ready(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ready = await Promise.all(
          [...apiHttpPorts, ports.scheduler, ports.scheduler2, ports.health].map((p) =>
            fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.status === 200, () => false),
          ),
        );
        if (ready.every(Boolean)) return;
        if (launcher.exitCode !== null) throw new Error(`launcher exited (${launcher.exitCode})\n${output}`);
        if (output.includes("invalid configuration")) throw new Error(`an app refused its configuration\n${output}`);
        if (Date.now() > deadline) throw new Error(`cluster not ready: ${ready}\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}
