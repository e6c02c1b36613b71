import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimJobs, handBackUndelivered, markDelivered } from "../../libs/dispatch/index.js";
import { JOBS_AVAILABLE_CHANNEL } from "../../libs/notifications/index.js";
import { setTimeout as sleep } from "node:timers/promises";
import { DeliveryMarks } from "../../apps/api/worker-service/delivery-marks.js";
import type { WorkerSession } from "../../apps/api/worker-service/worker-session.js";
import { createLogger } from "../../libs/logging/logger.js";
import { startCoreJobs, type CoreJobs } from "../support/core-jobs.js";

// libs/dispatch/claim-jobs.ts in this process against real Postgres: the claim honours
// max_concurrency only for queues the caller knows are limited (any other limited queue gets
// nothing, its count could be stale), refuses nonsense limits without a query, and the delivery
// mark and hand-back change exactly the fenced rows.

describe("claims and deliveries", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("d");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  it("claims up to max_concurrency of a queue the caller names as limited", async () => {
    const q = await core.queue({ maxConcurrency: 2 });
    for (let i = 0; i < 3; i++) await core.submit(q);
    const w = await core.worker(q);
    const claim = () => claimJobs(core.db.pool, { workerId: w, queues: [q], limit: 5, leaseMs: 60_000 }, new Set([q]));
    expect(await claim()).toHaveLength(2);
    expect(await claim()).toHaveLength(0);
  });

  it("claims nothing from a limited queue the caller did not name as limited, and all of an unlimited one", async () => {
    const [limited, open] = [await core.queue({ maxConcurrency: 5 }), await core.queue()];
    await core.submit(limited);
    await core.submit(open);
    await core.submit(open);
    const w = await core.worker([limited, open]);
    const claimed = await claimJobs(core.db.pool, { workerId: w, queues: [limited, open], limit: 5, leaseMs: 60_000 }, new Set());
    expect(claimed.map((c) => c.queue)).toEqual([open, open]);
    const named = await claimJobs(core.db.pool, { workerId: w, queues: [limited, open], limit: 5, leaseMs: 60_000 }, new Set([limited]));
    expect(named.map((c) => c.queue)).toEqual([limited]);
  });

  it("claims nothing for a limit below one or no queues", async () => {
    const q = await core.queue();
    await core.submit(q);
    const w = await core.worker(q);
    expect(await claimJobs(core.db.pool, { workerId: w, queues: [q], limit: -1, leaseMs: 60_000 }, new Set())).toEqual([]);
    expect(await claimJobs(core.db.pool, { workerId: w, queues: [q], limit: 0, leaseMs: 60_000 }, new Set())).toEqual([]);
    expect(await claimJobs(core.db.pool, { workerId: w, queues: [], limit: 1, leaseMs: 60_000 }, new Set())).toEqual([]);
    expect((await core.claim(q, w)).length).toBe(1);
  });

  it("marks fenced deliveries RUNNING at the time of the write, with the deadline counted from it", async () => {
    const q = await core.queue({ timeoutSeconds: 30 });
    const [a, b] = [await core.submit(q), await core.submit(q)];
    const w = await core.worker(q);
    const claimed = await core.claim(q, w, 2);
    const at = new Date(Date.now() - 5_000);
    const attempt = (id: string) => claimed.find((c) => c.id === id)!.attempt;
    expect(await markDelivered(core.db.pool, [])).toEqual(new Set());
    const marked = await markDelivered(core.db.pool, [
      { jobId: a, attempt: attempt(a), workerId: w, deliveredAt: at },
      { jobId: b, attempt: attempt(b) + 1, workerId: w, deliveredAt: at }, // stale attempt: untouched
    ]);
    expect(marked).toEqual(new Set([a]));
    const job = await core.job(a);
    expect(job).toMatchObject({ status: "RUNNING", status_reason: "DELIVERED", started_at: at });
    expect(job.lease_expires_at!.getTime()).toBe(at.getTime() + 30_000);
    expect((await core.events(a)).at(-1)).toMatchObject({ reason: "DELIVERED", from: "ASSIGNED", to: "RUNNING", worker: w, attempt: attempt(a) });
    expect((await core.job(b)).status).toBe("ASSIGNED");
    const other = await core.worker(q);
    expect(await markDelivered(core.db.pool, [{ jobId: b, attempt: attempt(b), workerId: other, deliveredAt: at }])).toEqual(new Set());
  });

  it("hands back only the worker's fenced assignments, keeps the retry budget, and wakes dispatchers", async () => {
    const q = await core.queue();
    const [a, b] = [await core.submit(q), await core.submit(q)];
    const w = await core.worker(q);
    const claimed = await core.claim(q, w, 2);
    const attempt = (id: string) => claimed.find((c) => c.id === id)!.attempt;
    const wake = await core.listen(JOBS_AVAILABLE_CHANNEL);
    try {
      expect(await handBackUndelivered(core.db.pool, w, [], "DELIVERY_FAILED", "gone")).toBe(0);
      expect(await handBackUndelivered(core.db.pool, crypto.randomUUID(), [{ jobId: a, attempt: attempt(a) }], "DELIVERY_FAILED", "gone")).toBe(0);
      expect(
        await handBackUndelivered(core.db.pool, w, [{ jobId: a, attempt: attempt(a) }, { jobId: b, attempt: attempt(b) - 1 }], "DELIVERY_FAILED", "gone"),
      ).toBe(1);
      expect(await wake.waitFor(1)).toEqual([q]);
    } finally {
      await wake.end();
    }
    expect(await core.job(a)).toMatchObject({ status: "PENDING", status_reason: "DELIVERY_FAILED", worker_id: null, lease_expires_at: null, assigned_at: null, retry_count: 0, attempt: attempt(a) });
    expect((await core.events(a)).at(-1)).toMatchObject({ reason: "DELIVERY_FAILED", from: "ASSIGNED", to: "PENDING", worker: w, message: "gone" });
    expect((await core.job(b)).status).toBe("ASSIGNED");
  });

  it("writes each delivery's RUNNING mark once that mark is the delay old, not when an older one is due", async () => {
    const q = await core.queue();
    const [first, second] = [await core.submit(q), await core.submit(q)];
    const w = await core.worker(q);
    const claimed = await core.claim(q, w, 2);
    const byId = new Map(claimed.map((c) => [c.id, c]));
    const status = async (id: string) => (await core.db.pool.query<{ status: string }>("SELECT status FROM jobs WHERE id = $1", [id])).rows[0]!.status;
    const delayMs = 600;
    const marks = new DeliveryMarks(core.db.pool, delayMs, () => true, createLogger({ app: "test", nodeId: "t", level: "silent", destination: process.stderr }));
    const session = { workerId: w } as WorkerSession;
    const start = performance.now();
    marks.add(session, [byId.get(first)!], new Date());
    await sleep(300);
    marks.add(session, [byId.get(second)!], new Date());
    // 750 ms in: the first mark (due at 600) is written, the second (due at 900) still waits for its result.
    await sleep(750 - (performance.now() - start));
    expect(await status(first)).toBe("RUNNING");
    expect(await status(second)).toBe("ASSIGNED");
    expect(marks.take(second, byId.get(second)!.attempt)).toBeInstanceOf(Date);
    marks.add(session, [byId.get(second)!], new Date());
    for (let i = 0; i < 50 && (await status(second)) !== "RUNNING"; i++) await sleep(50);
    expect(await status(second)).toBe("RUNNING");
    await marks.stop();
  });
});
