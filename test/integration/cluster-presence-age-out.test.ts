import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGE_OUT_INTERVALS } from "../../libs/presence/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";

/**
 * Presence rows (libs/presence): a node that stops cleanly removes its own row; a node that could
 * not (killed, or its database went first) is shown as not alive, then aged out by whoever
 * announces next, so a restarted cluster does not keep listing its previous run.
 */
describe("cluster presence", () => {
  const intervalMs = 250;
  let db: TestDatabase;
  let api: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = startApp("api", { JQ_DATABASE_URL: db.url, JQ_NODE_ID: "api-now", JQ_PRESENCE_INTERVAL_MS: String(intervalMs) });
    await api.ready();
  });
  afterAll(async () => {
    await api.stop();
    await db.drop();
  });

  const nodeIds = async () =>
    (await db.pool.query<{ node_id: string }>("SELECT node_id FROM cluster_nodes ORDER BY node_id")).rows.map((r) => r.node_id);
  const insertSilentFor = (nodeId: string, ms: number) =>
    db.pool.query(
      `INSERT INTO cluster_nodes (node_id, role, version, hostname, leader, started_at, last_seen)
       VALUES ($1, 'api', '0.1.0', 'gone-host', false, now() - interval '1 hour', now() - $2::int * interval '1 millisecond')`,
      [nodeId, ms],
    );

  it("ages out a node silent for AGE_OUT_INTERVALS intervals and keeps a recently silent one", async () => {
    await insertSilentFor("api-previous-run", AGE_OUT_INTERVALS * intervalMs * 10);
    const diedAt = performance.now(); // at or before the row's last_seen
    await insertSilentFor("api-just-died", 0);
    // The announcement that ages out the old row would take the recent one too if the rule were wrong.
    await eventually("the previous run's row to age out", async () => !(await nodeIds()).includes("api-previous-run"));
    expect(await nodeIds()).toEqual(["api-just-died", "api-now"]);
    // Once silent for AGE_OUT_INTERVALS intervals, it goes too, and not before.
    await eventually("the recently silent row to age out", async () => !(await nodeIds()).includes("api-just-died"), 30_000, 10);
    expect(performance.now() - diedAt).toBeGreaterThanOrEqual(AGE_OUT_INTERVALS * intervalMs);
    expect(await nodeIds()).toEqual(["api-now"]);
  });

  it("removes the row of a node that stops cleanly", async () => {
    expect(await api.stop()).toBe(0);
    expect(await nodeIds()).toEqual([]);
  });
});
