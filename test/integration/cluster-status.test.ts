import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { NodeRole } from "../../libs/proto/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";

/** GetClusterStatus over the nodes' own presence announcements and the published leader term. */
describe("GetClusterStatus", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;
  const procs: AppProcess[] = [];
  const env = (db: TestDatabase) => ({ JQ_DATABASE_URL: db.url, JQ_PRESENCE_INTERVAL_MS: "200", JQ_LEADER_LEASE_MS: "2000" });

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_PRESENCE_INTERVAL_MS: "200", JQ_NODE_ID: "api-1" });
    c = api.client();
    for (const [app, id] of [["scheduler", "sched-1"], ["scheduler", "sched-2"], ["health", "health-1"]] as const) {
      procs.push(startApp(app, { ...env(db), JQ_NODE_ID: id }));
    }
    await Promise.all(procs.map((p) => p.ready()));
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  const status = () => c.call(c.admin, "getClusterStatus", {});

  it("names the leader and its term, and every node with its role", async () => {
    let s = await status();
    await eventually("a leader in the cluster status", async () => (s = await status()).leaderNodeId !== "", 30_000, 100);
    expect(["sched-1", "sched-2"]).toContain(s.leaderNodeId);
    expect(Number(s.leaderTerm)).toBeGreaterThanOrEqual(1);
    expect(s.nodes.map((n) => [n.nodeId, n.role, n.alive])).toEqual([
      ["api-1", NodeRole.API, true],
      ["health-1", NodeRole.HEALTH, true],
      ["sched-1", NodeRole.SCHEDULER, true],
      ["sched-2", NodeRole.SCHEDULER, true],
    ]);
    expect(s.nodes.filter((n) => n.leader).map((n) => n.nodeId)).toEqual([s.leaderNodeId]);
    expect(s.nodes.every((n) => n.version === "0.1.0" && n.hostname !== "")).toBe(true);
  });

  it("drops a node that stops cleanly, and shows a killed one as not alive", async () => {
    const health = procs[2]!;
    expect(await health.stop()).toBe(0);
    const leaderId = (await status()).leaderNodeId;
    const leader = procs.find((_, i) => i < 2 && (i === 0 ? "sched-1" : "sched-2") === leaderId)!;
    leader.child.kill("SIGKILL");
    await leader.exited();
    const deadline = Date.now() + 15_000;
    let s = await status();
    while (Date.now() < deadline && (s.nodes.find((n) => n.nodeId === leaderId)?.alive !== false || s.leaderNodeId === leaderId || s.leaderNodeId === "")) {
      await new Promise((r) => setTimeout(r, 100));
      s = await status();
    }
    expect(s.nodes.map((n) => n.nodeId)).not.toContain("health-1");
    expect(s.nodes.find((n) => n.nodeId === leaderId)).toMatchObject({ alive: false, leader: false });
    // The standby took over.
    expect(s.leaderNodeId).not.toBe(leaderId);
    expect(s.leaderNodeId).not.toBe("");
  });
});
