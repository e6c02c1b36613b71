import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimJobs } from "../../libs/dispatch/index.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { newJob, startCoreJobs, type CoreJobs } from "../support/core-jobs.js";
import { pagesRead } from "../support/pages-read.js";

// Claims and the submit's hand-off check against jobs that are not due yet (migration 0015,
// docs/write-path.md, "Jobs that are not due yet"): the claim order is priority, then the time a
// job became due, then id; and a queue holding thousands of delayed or backing-off jobs costs a
// claim or a hand-off check a few pages, not one heap fetch per job ahead of the first due one.

const DAY_MS = 86_400_000;

/** Pages of `jobs` and of its claim index that `run` read (on the lookups' generic plans). */
async function lookupPages<T>(pool: pg.Pool, run: (client: pg.PoolClient) => Promise<T>): Promise<{ result: T; heap: number; index: number }> {
  const { result, pages } = await pagesRead(pool, ["jobs", "jobs_claim_idx"], run);
  return { result, heap: pages.jobs!, index: pages.jobs_claim_idx! };
}

describe("claims of jobs by due time", () => {
  let core: CoreJobs;
  beforeAll(async () => {
    core = await startCoreJobs("due");
  });
  afterAll(async () => {
    await core.db.drop();
  });

  it("claims by priority, then by the time each job became due, then by id", async () => {
    const q = await core.queue();
    const delayed = await core.submit(q, { delayMs: 60_000 });
    const first = await core.submit(q);
    const urgent = await core.submit(q, { priority: 5, delayMs: 60_000 });
    // A start time in the past does not put a job ahead of those submitted before it.
    const pastRunAt = await core.submit(q, { runAt: new Date(Date.now() - DAY_MS) });
    const notYet = await core.submit(q, { delayMs: DAY_MS });
    // The delayed jobs become due: `delayed`, submitted first, just after `pastRunAt` was created.
    await core.db.pool.query(
      `UPDATE jobs SET not_before = CASE WHEN id = $1 THEN (SELECT created_at FROM jobs WHERE id = $3) + interval '1 microsecond' ELSE now() END
       WHERE id = ANY(ARRAY[$1, $2]::uuid[])`,
      [delayed, urgent, pastRunAt],
    );
    const inOrder = [urgent, first, pastRunAt, delayed];
    // 0014's lookup, which replicas that predate 0015 call during a rolling upgrade, gives the same.
    // It only locks, and its statement's end lets go.
    const { rows: older } = await core.db.pool.query<{ id: string }>("SELECT id FROM jq_claim_candidates($1, 10)", [q]);
    expect(older.map((r) => r.id)).toEqual(inOrder);
    const w = await core.worker(q);
    const claimed = await claimJobs(core.db.pool, { workerId: w, queues: [q], limit: 10, leaseMs: 60_000 }, new Set());
    // In id order (before migration 0015) `delayed` came right after `urgent`.
    expect(claimed.map((c) => c.id)).toEqual(inOrder);
    expect(claimed.map((c) => c.id)).not.toContain(notYet);
  });

  it("reads a few pages for a claim or a hand-off check however many jobs not yet due are ahead", async () => {
    const q = await core.queue();
    // Not due for a day, at the queue's usual priority and at a higher one, submitted first.
    for (let i = 0; i < 10; i++) await submitJobs(core.db.pool, Array.from({ length: 1000 }, () => newJob(q, { delayMs: DAY_MS })));
    for (let i = 0; i < 2; i++) await submitJobs(core.db.pool, Array.from({ length: 1000 }, () => newJob(q, { priority: 3, delayMs: DAY_MS })));
    const idle = await core.queue();
    await submitJobs(core.db.pool, Array.from({ length: 1000 }, () => newJob(idle, { delayMs: DAY_MS })));
    await core.db.pool.query("ANALYZE jobs");

    const quiet = await lookupPages(core.db.pool, async (c) => (await c.query<{ due: boolean }>("SELECT jq_has_due_pending($1) AS due", [q])).rows[0]!.due);
    expect(quiet.result).toBe(false);
    const due = await Promise.all([1, 2, 3].map(() => core.submit(q)));
    const check = await lookupPages(core.db.pool, async (c) => (await c.query<{ due: boolean }>("SELECT jq_has_due_pending($1) AS due", [q])).rows[0]!.due);
    expect(check.result).toBe(true);
    const claim = await lookupPages(core.db.pool, async (c) => (await c.query<{ id: string }>("SELECT id FROM jq_claim_due($1, 10)", [q])).rows.map((r) => r.id));
    expect(new Set(claim.result)).toEqual(new Set(due));
    // Before migration 0015 each of these read every job ahead of the first due one: 12,000 index
    // entries and a heap fetch each (hundreds of pages).
    for (const read of [quiet, check, claim]) {
      expect(read.index).toBeLessThan(20);
      expect(read.heap).toBeLessThan(20);
    }

    // The statements apps/api runs: an offered job of a queue with nothing due is handed off.
    const w = await core.worker(idle);
    const [handed] = await submitJobs(core.db.pool, [newJob(idle)], { workers: [w], leaseMs: 60_000 });
    expect(handed!.handedOff).toBeDefined();
    const claimed = await claimJobs(core.db.pool, { workerId: w, queues: [q, idle], limit: 10, leaseMs: 60_000 }, new Set());
    expect(new Set(claimed.map((c) => c.id))).toEqual(new Set(due));
  });
});
