import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOST_BY_HEARTBEAT, reconcileHeartbeats, type CompleteHeartbeat } from "../../libs/attempts/index.js";
import type { AbsentDelivery } from "../../libs/workers/index.js";
import { startCoreJobs, type CoreJobs } from "../support/core-jobs.js";

// libs/attempts/reconcile-held-jobs.ts in this process against real Postgres: what a complete
// heartbeat does to the jobs the database gives its worker. The rule itself (two absences in a
// row, the grace, what is in flight) is unit-tested in libs/workers/held-jobs-reconciliation.test.ts;
// this file checks what the store reads and writes: the remembered absences in
// `workers.absent_jobs` on the database's clock, the lost-worker moves, and whom it skips. The
// api's path to it is worker-held-reconciliation.test.ts.

describe("reconcileHeartbeats", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("hb");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  /** A worker holding two jobs of a new queue: the first RUNNING, the second ASSIGNED. */
  const holding = async () => {
    const q = await core.queue({ maxRetries: 3 });
    const [runningId, assignedId] = [await core.submit(q), await core.submit(q)];
    const w = await core.worker(q);
    const claimed = await core.claim(q, w, 2);
    await core.db.pool.query("UPDATE jobs SET status = 'RUNNING', started_at = now() WHERE id = $1", [runningId]);
    const attempt = (id: string) => claimed.find((c) => c.id === id)!.attempt;
    return { q, w, running: { jobId: runningId, attempt: attempt(runningId) }, assigned: { jobId: assignedId, attempt: attempt(assignedId) } };
  };
  const absentOf = async (workerId: string) =>
    (await core.db.pool.query<{ absent_jobs: AbsentDelivery[] }>("SELECT absent_jobs FROM workers WHERE worker_id = $1", [workerId])).rows[0]!.absent_jobs;
  const dbNowMs = async () => Number((await core.db.pool.query<{ ms: string }>("SELECT (extract(epoch FROM now()) * 1000)::bigint::text AS ms")).rows[0]!.ms);
  const beat = (workerId: string, reported: CompleteHeartbeat["reported"], inFlight: CompleteHeartbeat["inFlight"] = []): CompleteHeartbeat => ({ workerId, reported, inFlight });

  it("does nothing for no heartbeats, or for one that lists everything the worker holds", async () => {
    expect(await reconcileHeartbeats(core.db.pool, [], 0)).toEqual(new Map());
    const h = await holding();
    expect(await reconcileHeartbeats(core.db.pool, [beat(h.w, [h.running, h.assigned])], 0)).toEqual(new Map());
    expect(await absentOf(h.w)).toEqual([]);
    expect((await core.job(h.running.jobId)).status).toBe("RUNNING");
    expect((await core.job(h.assigned.jobId)).status).toBe("ASSIGNED");
  });

  it("remembers a first absence with the database's time, releases nothing, and forgets it when the job is listed again", async () => {
    const h = await holding();
    const before = await dbNowMs();
    expect(await reconcileHeartbeats(core.db.pool, [beat(h.w, [h.assigned])], 0)).toEqual(new Map());
    const after = await dbNowMs();
    const [absent, ...more] = await absentOf(h.w);
    expect(more).toEqual([]);
    expect(absent).toMatchObject(h.running);
    expect(absent!.since).toBeGreaterThanOrEqual(before);
    expect(absent!.since).toBeLessThanOrEqual(after);
    expect((await core.job(h.running.jobId)).status).toBe("RUNNING");

    expect(await reconcileHeartbeats(core.db.pool, [beat(h.w, [h.running, h.assigned])], 0)).toEqual(new Map());
    expect(await absentOf(h.w)).toEqual([]);
    // Missing once more: a first absence again, not a second.
    expect(await reconcileHeartbeats(core.db.pool, [beat(h.w, [h.assigned])], 0)).toEqual(new Map());
    expect((await core.job(h.running.jobId)).status).toBe("RUNNING");
  });

  it("releases a delivery missing from two heartbeats in a row once the grace has passed since the first, as a lost worker's", async () => {
    const graceMs = 300;
    const h = await holding();
    const none = beat(h.w, []);
    expect(await reconcileHeartbeats(core.db.pool, [none], graceMs)).toEqual(new Map());
    const first = await absentOf(h.w);
    expect(first.map((d) => d.jobId).sort()).toEqual([h.running.jobId, h.assigned.jobId].sort());
    // The second absence within the grace: still held, and the first absence's time is kept.
    expect(await reconcileHeartbeats(core.db.pool, [none], graceMs)).toEqual(new Map());
    expect(await absentOf(h.w)).toEqual(first);
    expect((await core.job(h.assigned.jobId)).status).toBe("ASSIGNED");

    await sleep(graceMs + 50);
    expect(await reconcileHeartbeats(core.db.pool, [none], graceMs)).toEqual(new Map([[h.w, 2]]));
    // ASSIGNED goes back to PENDING with its retry budget; RUNNING fails as WORKER_LOST and is retried.
    expect(await core.job(h.assigned.jobId)).toMatchObject({ status: "PENDING", status_reason: "WORKER_LOST", retry_count: 0, worker_id: null });
    expect(await core.job(h.running.jobId)).toMatchObject({ status: "PENDING", retry_count: 1, worker_id: null });
    expect((await core.events(h.assigned.jobId)).at(-1)).toMatchObject({ from: "ASSIGNED", to: "PENDING", reason: "WORKER_LOST", message: LOST_BY_HEARTBEAT, worker: h.w });
    expect((await core.events(h.running.jobId)).slice(-2)).toMatchObject([
      { from: "RUNNING", to: "FAILED", reason: "WORKER_LOST", message: LOST_BY_HEARTBEAT, worker: h.w },
      { from: "FAILED", to: "PENDING", reason: "RETRY_SCHEDULED" },
    ]);
  });

  it("keeps a delivery whose result or mark is still in flight on the replica", async () => {
    const h = await holding();
    expect(await reconcileHeartbeats(core.db.pool, [beat(h.w, [], [h.running, h.assigned])], 0)).toEqual(new Map());
    expect(await reconcileHeartbeats(core.db.pool, [beat(h.w, [], [h.running, h.assigned])], 0)).toEqual(new Map());
    expect(await absentOf(h.w)).toEqual([]);
    expect((await core.job(h.running.jobId)).status).toBe("RUNNING");
  });

  it("reconciles several workers in one call, each on its own list, and skips an offline or unknown worker", async () => {
    const listed = await holding();
    const lost = await holding();
    const offline = await holding();
    await core.db.pool.query("UPDATE workers SET status = 'OFFLINE' WHERE worker_id = $1", [offline.w]);
    const idle = await core.worker(await core.queue());
    const beats = [beat(listed.w, [listed.running, listed.assigned]), beat(lost.w, [lost.running]), beat(offline.w, []), beat(idle, []), beat(crypto.randomUUID(), [])];
    expect(await reconcileHeartbeats(core.db.pool, beats, 0)).toEqual(new Map());
    expect(await reconcileHeartbeats(core.db.pool, beats, 0)).toEqual(new Map([[lost.w, 1]]));
    expect((await core.job(lost.assigned.jobId)).status).toBe("PENDING");
    expect((await core.job(lost.running.jobId)).status).toBe("RUNNING");
    expect((await core.job(listed.assigned.jobId)).status).toBe("ASSIGNED");
    expect((await core.job(offline.assigned.jobId)).status).toBe("ASSIGNED");
    for (const w of [listed.w, offline.w, idle]) expect(await absentOf(w)).toEqual([]);
    // Only workers it skips: nothing read, nothing to do.
    expect(await reconcileHeartbeats(core.db.pool, [beat(offline.w, []), beat(crypto.randomUUID(), [])], 0)).toEqual(new Map());
  });
});
