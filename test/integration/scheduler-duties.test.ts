import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJobs } from "../../libs/jobs/index.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { createQueue, QUEUE_DEFAULTS } from "../../libs/queues/index.js";
import {
  sweepExecutionTimeouts,
  sweepExpiredJobs,
  sweepLostWorkers,
  sweepRetention,
  sweepUndeliveredAssignments,
  wakeDueQueues,
} from "../../libs/sweeps/index.js";
import { registerWorker } from "../../libs/workers/index.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RELAY_UP_TO_JOB } from "../support/event-log.js";
import { untilIdsOlderThan } from "../support/job-age.js";

/** Each scheduler duty against a real database: what it changes, with which events, and idempotence. */
describe("scheduler duties", () => {
  let db: TestDatabase;
  let n = 0;
  const queue = async (over: Partial<typeof QUEUE_DEFAULTS> = {}) => {
    const name = `d${++n}`;
    await createQueue(db.pool, name, { ...QUEUE_DEFAULTS, backoffBaseMs: 1, backoffMaxMs: 1, ...over }, false);
    return name;
  };
  const submit = async (q: string) =>
    (await submitJobs(db.pool, [{ queue: q, payload: Buffer.from("x"), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null }]))[0]!.job.id;
  const reasons = async (id: string) => (await db.pool.query("SELECT reason FROM job_events WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
  const state = async (id: string) => (await db.pool.query("SELECT status, attempt, retry_count FROM jobs WHERE id = $1", [id])).rows[0];
  const worker = async () =>
    (await registerWorker(db.pool, { workerId: crypto.randomUUID(), hostname: "h", sdkVersion: "t", queues: ["x"], concurrency: 1, labels: {} })).workerId;
  const hold = (id: string, w: string, status: "ASSIGNED" | "RUNNING", leaseOffset: string | null) =>
    db.pool.query(
      `UPDATE jobs SET status = $2, attempt = 1, worker_id = $3, assigned_at = now(),
              lease_expires_at = CASE WHEN $4::text IS NULL THEN NULL ELSE now() + $4::interval END WHERE id = $1`,
      [id, status, w, leaseOffset],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
  });
  afterAll(async () => {
    await db.drop();
  });

  it("undelivered assignments past their lease go back to PENDING without using a retry", async () => {
    const q = await queue();
    const [late, fresh] = [await submit(q), await submit(q)];
    const w = await worker();
    await hold(late, w, "ASSIGNED", "-1 second");
    await hold(fresh, w, "ASSIGNED", "1 hour");
    expect(await sweepUndeliveredAssignments(db.pool)).toBe(1);
    expect(await state(late)).toEqual({ status: "PENDING", attempt: 1, retry_count: 0 });
    // As after a claim, its CLAIMED event is written with the move out of ASSIGNED.
    expect(await reasons(late)).toEqual(["SUBMITTED", "CLAIMED", "LEASE_EXPIRED"]);
    expect((await state(fresh)).status).toBe("ASSIGNED");
    expect(await sweepUndeliveredAssignments(db.pool)).toBe(0);
  });

  it("running jobs past their deadline fail with TIMEOUT and are retried or dead-lettered", async () => {
    const q = await queue({ maxRetries: 1 });
    const id = await submit(q);
    const w = await worker();
    await hold(id, w, "RUNNING", "-1 second");
    expect(await sweepExecutionTimeouts(db.pool)).toBe(1);
    expect(await state(id)).toEqual({ status: "PENDING", attempt: 1, retry_count: 1 });
    await hold(id, w, "RUNNING", "-1 second");
    await db.pool.query("UPDATE jobs SET attempt = 2 WHERE id = $1", [id]);
    expect(await sweepExecutionTimeouts(db.pool)).toBe(1);
    expect((await state(id)).status).toBe("DEAD_LETTERED");
    expect(await reasons(id)).toEqual(["SUBMITTED", "TIMEOUT", "RETRY_SCHEDULED", "TIMEOUT", "RETRIES_EXHAUSTED"]);
    expect(await sweepExecutionTimeouts(db.pool)).toBe(0);
  });

  it("silent workers go OFFLINE and their jobs are handed back; a live one is untouched", async () => {
    const q = await queue();
    const [a, r] = [await submit(q), await submit(q)];
    const silent = await worker();
    const alive = await worker();
    await hold(a, silent, "ASSIGNED", "1 hour");
    await hold(r, silent, "RUNNING", null);
    await db.pool.query("UPDATE workers SET last_heartbeat = now() - interval '1 minute' WHERE worker_id = $1", [silent]);
    expect(await sweepLostWorkers(db.pool, 30_000)).toEqual([silent]);
    const { rows } = await db.pool.query("SELECT worker_id, status FROM workers WHERE worker_id = ANY($1::uuid[]) ORDER BY worker_id", [[silent, alive]]);
    expect(Object.fromEntries(rows.map((x) => [x.worker_id, x.status]))).toEqual({ [silent]: "OFFLINE", [alive]: "ONLINE" });
    expect(await reasons(a)).toEqual(["SUBMITTED", "CLAIMED", "WORKER_LOST"]);
    expect(await reasons(r)).toEqual(["SUBMITTED", "WORKER_LOST", "RETRY_SCHEDULED"]);
    expect(await sweepLostWorkers(db.pool, 30_000)).toEqual([]);
  });

  it("expires PENDING jobs past the TTL, counting from when they became due", async () => {
    // Three seconds: what `recent` and `delayed` have left of the TTL when the sweep runs.
    const q = await queue({ ttlSeconds: 3 });
    const [old, recent, delayed] = [await submit(q), await submit(q), await submit(q)];
    // The sweep reads only jobs due (here: created) before its cutoff; the ids are made at submit,
    // just before created_at, so a second more.
    await untilIdsOlderThan(db.pool, [old, recent, delayed], 4);
    await db.pool.query("UPDATE jobs SET updated_at = now() - interval '2 minutes' WHERE id = ANY($1::uuid[])", [[old, delayed]]);
    await db.pool.query("UPDATE jobs SET updated_at = now() WHERE id = $1", [recent]);
    await db.pool.query("UPDATE jobs SET not_before = now() WHERE id = $1", [delayed]);
    expect(await sweepExpiredJobs(db.pool)).toBe(1);
    expect(await reasons(old)).toEqual(["SUBMITTED", "EXPIRED"]);
    expect((await state(recent)).status).toBe("PENDING");
    expect((await state(delayed)).status).toBe("PENDING");
  });

  it("removes finished jobs past retention with their events, but not while an event waits for the relay", async () => {
    const q = await queue({ retentionSeconds: 1 });
    const [sent, unsent] = [await submit(q), await submit(q)];
    // Retention reads only jobs created (UUIDv7 ids) before its cutoff.
    await untilIdsOlderThan(db.pool, [sent, unsent], 1);
    await db.pool.query("UPDATE jobs SET status = 'DONE', completed_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])", [[sent, unsent]]);
    await db.pool.query(RELAY_UP_TO_JOB, [sent]);
    expect(await sweepRetention(db.pool)).toBe(1);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM job_events WHERE job_id = $1", [sent])).rows[0].n).toBe(0);
    expect(await state(sent)).toBeUndefined();
    expect((await state(unsent)).status).toBe("DONE");
  });

  it("names queues whose delayed jobs just became due", async () => {
    const q = await queue();
    const id = await submit(q);
    await db.pool.query("UPDATE jobs SET not_before = now() - interval '100 milliseconds' WHERE id = $1", [id]);
    expect(await wakeDueQueues(db.pool, 1000)).toBeGreaterThanOrEqual(1);
  });
});
