import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Worker } from "../../libs/worker-sdk/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

/**
 * Issue 13 item 7: a replica frozen with SIGSTOP (its TCP port still accepts) is noticed by the
 * SDK's keepalive within seconds, and the worker's streams move to the other replica.
 */
describe("the TS SDK leaves a frozen replica", () => {
  let db: TestDatabase;
  const apis: RunningApi[] = [];
  let worker: Worker | undefined;
  let frozen: RunningApi | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const id of ["api-1", "api-2"]) apis.push(await startApi(db.url, { JQ_NODE_ID: id, JQ_HEARTBEAT_TIMEOUT_MS: "60000" }));
    const c = apis[0]!.client();
    await c.call(c.admin, "createQueue", { name: "fz", paused: false, settings: {} });
  });
  afterAll(async () => {
    frozen?.app.child.kill("SIGCONT");
    await worker?.close();
    for (const a of apis) expect(await a.stop()).toBe(0);
    await db.drop();
  });

  const runJob = async (via: RunningApi) => {
    const c = via.client();
    const { job } = await c.call(c.jobs, "submitJob", jobRequest("fz"));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows } = await db.pool.query("SELECT status FROM jobs WHERE id = $1", [job!.id]);
      if (rows[0].status === "DONE") return;
      if (Date.now() > deadline) throw new Error(`job still ${rows[0].status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it("moves the worker's streams to the other replica within a few seconds of a SIGSTOP", async () => {
    const address = `ipv4:${apis.map((a) => a.address).join(",")}`;
    worker = new Worker({ address, queues: ["fz"], concurrency: 2, handler: async () => "ok", reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    await worker.start();
    await runJob(apis[0]!);
    const { rows } = await db.pool.query<{ node_id: string }>("SELECT node_id FROM workers WHERE worker_id = $1", [worker.id]);
    const index = rows[0]!.node_id === "api-1" ? 0 : 1;
    frozen = apis[index]!;
    const other = apis[1 - index]!;

    frozen.app.child.kill("SIGSTOP");
    const stoppedAt = Date.now();
    await runJob(other);
    const healMs = Date.now() - stoppedAt;
    frozen.app.child.kill("SIGCONT");
    frozen = undefined;
    console.log(`frozen replica: a job submitted to the other replica ran after ${healMs} ms`);
    expect(healMs).toBeLessThan(10_000);
    const { rows: after } = await db.pool.query<{ node_id: string }>("SELECT node_id FROM workers WHERE worker_id = $1", [worker.id]);
    expect(after[0]!.node_id).toBe(other === apis[0] ? "api-1" : "api-2");
  });
});
