import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { Worker } from "../../libs/worker-sdk/index.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { launchQuickStart } from "../support/quick-start.js";
import { eventually } from "../support/eventually.js";

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
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Its own data directory, hence its own pm2 home: never a developer's `npm start` of this checkout.
    dataDir = mkdtempSync(join(tmpdir(), "jq-quick-start-"));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs api ×2, two schedulers and health; jobs complete with the SDK; SIGTERM stops everything", async () => {
    const qs = await launchQuickStart({ JQ_DATABASE_URL: db.url, QUICK_START_DATA_DIR: dataDir });
    const exited = qs.exited();
    const client = new JqClient({ address: `127.0.0.1:${qs.ports.grpc}`, maxAttempts: 1, deadlineMs: 2000 });
    let worker: Worker | undefined;
    let seen: number[];
    try {
      await qs.ready();
      const deadline = Date.now() + 60_000;
      expect(qs.output()).toContain(`gRPC API:  127.0.0.1:${qs.ports.grpc}`);
      expect(qs.output()).toContain(`pm2 home:  ${join(dataDir, "pm2")}`);
      seen = descendants(qs.pid);
      const apps = execFileSync("ps", ["-o", "args=", "-p", seen.join(",")], { encoding: "utf8" });
      expect(apps.match(/dist\/apps\/api\/main\.js/g)).toHaveLength(2);
      expect(apps.match(/dist\/apps\/scheduler\/main\.js/g)).toHaveLength(2);
      expect(apps.match(/dist\/apps\/health\/main\.js/g)).toHaveLength(1);

      await client.call(client.admin, "createQueue", { name: "qs", paused: false });
      let done = 0;
      worker = new Worker({ address: `127.0.0.1:${qs.ports.grpc}`, queues: ["qs"], concurrency: 8, handler: async () => "ok" });
      worker.on?.("job:done", () => done++);
      await worker.start();
      await client.call(client.jobs, "submitJobs", { jobs: Array.from({ length: 50 }, () => jobRequest("qs")) });
      while (done < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const { queue } = await client.call(client.admin, "getQueue", { name: "qs" });
      expect(queue!.stats!.depth!.done).toBe("50");
      const status = (await (await fetch(`http://127.0.0.1:${qs.ports.health}/status`)).json()) as {
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
      process.kill(qs.pid, "SIGTERM");
    }
    expect(await exited, qs.output()).toBe(0);
    expect(qs.output()).toContain("jq: stopped");
    // Nothing the launcher started is left running (a process may take a moment to be reaped).
    await eventually("every process the launcher started to exit", () => seen.filter(alive).length === 0, 10_000);
    expect(seen.filter(alive)).toEqual([]);
  }, 150_000);
});
