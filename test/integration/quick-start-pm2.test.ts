import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { Worker } from "../../libs/worker-sdk/index.js";
import { findFreePort } from "../bed/free-port.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Every process below `pid`, from /proc (ps), so the test can prove none is left behind. */
function descendants(pid: number): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" });
  const children = new Map<number, number[]>();
  for (const line of out.trim().split("\n")) {
    const [p, pp] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (all.push(c), walk(c)));
  walk(pid);
  return all;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `npm start`'s path: scripts/start.ts running ecosystem.config.js under pm2-runtime. */
describe("the pm2 cluster of npm start", () => {
  let db: TestDatabase;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const k of ["grpc", "api", "scheduler", "scheduler2", "health"]) ports[k] = await findFreePort();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("runs api ×2, two schedulers and health; jobs complete with the SDK; SIGTERM stops everything", async () => {
    // The compiled launcher, as `npm start` runs it after its build.
    const launcher = spawn(process.execPath, ["dist/scripts/start.js"], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        JQ_DATABASE_URL: db.url,
        JQ_GRPC_PORT: String(ports.grpc),
        JQ_API_HTTP_PORT: String(ports.api),
        JQ_SCHEDULER_HTTP_PORT: String(ports.scheduler),
        SCHEDULER_2_HTTP_PORT: String(ports.scheduler2),
        JQ_HEALTH_HTTP_PORT: String(ports.health),
        JQ_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    launcher.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    launcher.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
    const client = new JqClient({ address: `127.0.0.1:${ports.grpc}`, maxAttempts: 1, deadlineMs: 2000 });
    let worker: Worker | undefined;
    let seen: number[];
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ready = await Promise.all(
          [ports.api, ports.scheduler, ports.scheduler2, ports.health].map((p) =>
            fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.status === 200, () => false),
          ),
        );
        if (ready.every(Boolean)) break;
        if (Date.now() > deadline) throw new Error(`cluster not ready: ${ready}\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(output).toContain(`gRPC API:  127.0.0.1:${ports.grpc}`);
      seen = descendants(launcher.pid!);
      const apps = execFileSync("ps", ["-o", "args=", "-p", seen.join(",")], { encoding: "utf8" });
      expect(apps.match(/dist\/apps\/api\/main\.js/g)).toHaveLength(2);
      expect(apps.match(/dist\/apps\/scheduler\/main\.js/g)).toHaveLength(2);
      expect(apps.match(/dist\/apps\/health\/main\.js/g)).toHaveLength(1);

      await client.call(client.admin, "createQueue", { name: "qs", paused: false });
      let done = 0;
      worker = new Worker({ address: `127.0.0.1:${ports.grpc}`, queues: ["qs"], concurrency: 8, handler: async () => "ok" });
      worker.on?.("job:done", () => done++);
      await worker.start();
      await client.call(client.jobs, "submitJobs", { jobs: Array.from({ length: 50 }, () => jobRequest("qs")) });
      while (done < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const { queue } = await client.call(client.admin, "getQueue", { name: "qs" });
      expect(queue!.stats!.depth!.done).toBe("50");
      const status = (await (await fetch(`http://127.0.0.1:${ports.health}/status`)).json()) as {
        queues: { name: string; depth: Record<string, number> }[];
        leader: { nodeId: string } | null;
      };
      expect(status.queues.find((q) => q.name === "qs")?.depth.DONE).toBe(50);
      const cluster = await client.call(client.admin, "getClusterStatus", {});
      expect(["scheduler-1", "scheduler-2"]).toContain(cluster.leaderNodeId);
      expect(cluster.nodes.filter((n) => n.alive).length).toBe(5);
    } finally {
      await worker?.close();
      client.close();
      launcher.kill("SIGTERM");
    }
    expect(await exited, output).toBe(0);
    // Nothing the launcher started is left running.
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.filter(alive)).toEqual([]);
  }, 120_000);
});
