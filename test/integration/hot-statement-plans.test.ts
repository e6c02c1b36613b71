import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordSuccesses } from "../../libs/attempts/report-successes.js";
import { claimJobs, markDelivered } from "../../libs/dispatch/index.js";
import { submitJobs } from "../../libs/jobs/index.js";
import { createPool, WRITE_PATH_SETTINGS } from "../../libs/postgres/index.js";
import { newJob as job, startCoreJobs, type CoreJobs } from "../support/core-jobs.js";

// The write path's hot statements keep one generic plan per connection instead of being planned
// on every call (docs/write-path.md, "Planning"; libs/postgres/named-statement.ts). Postgres
// switches a named statement to its generic plan after five custom ones when the generic plan
// costs no more; a change that makes a custom plan look cheaper (a flag the planner can fold, a
// limit it can see) sends the statement back to planning each call, and this test says which.

const ROUNDS = 12;

/** One round of the write path on `session`: a hand-off offer, a claim, a delivery mark, successes. */
async function writePathRound(session: pg.Pool, queue: string, worker: string, round: number): Promise<void> {
  await submitJobs(session, [job(queue)], { workers: [worker], leaseMs: 60_000 });
  await submitJobs(session, Array.from({ length: 2 + (round % 3) }, () => job(queue)));
  const claimed = await claimJobs(session, { workerId: worker, queues: [queue], limit: 2 + (round % 3), leaseMs: 60_000 }, new Set());
  await markDelivered(session, claimed.slice(0, 1).map((c) => ({ jobId: c.id, attempt: c.attempt, workerId: worker, deliveredAt: new Date() })));
  await recordSuccesses(session, claimed.map((c) => ({ jobId: c.id, attempt: c.attempt, workerId: worker, outcome: { kind: "success", result: Buffer.alloc(0) } })));
}

/**
 * The plan each hot statement prepared on `session` runs now (its cached generic plan once it has
 * one), as text: EXPLAIN EXECUTE with every parameter NULL, which plans but runs nothing.
 */
async function cachedPlans(session: pg.Pool): Promise<Map<string, string>> {
  const client = await session.connect();
  try {
    const { rows } = await client.query<{ name: string; statement: string; params: number }>(
      "SELECT name, statement, cardinality(parameter_types) AS params FROM pg_prepared_statements WHERE name LIKE 'jq\\_%'",
    );
    const plans = new Map<string, string>();
    for (const r of rows) {
      const kind = /INSERT INTO jobs/.test(r.statement) ? "submit" : /WITH caps AS/.test(r.statement) ? "claim"
        : /AS d\(id, attempt, worker_id, at\)/.test(r.statement) ? "mark" : /AS i\(id, attempt, worker_id, result/.test(r.statement) ? "success" : undefined;
      if (kind === undefined || plans.has(kind)) continue;
      const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN EXECUTE ${r.name}(${Array(r.params).fill("NULL").join(", ")})`);
      plans.set(kind, plan.rows.map((p) => p["QUERY PLAN"]).join("\n"));
    }
    return plans;
  } finally {
    client.release();
  }
}

/** A pool of one connection with the session settings apps/api and apps/scheduler connect with, and `extra`. */
function writePathSession(url: string, extra: Readonly<Record<string, string>> = {}): pg.Pool {
  return createPool({ url, max: 1, connectTimeoutMs: 10_000, applicationName: "hot-statement-plans", settings: { ...WRITE_PATH_SETTINGS, ...extra } }, () => undefined);
}

/** The lines of a plan that read all of `jobs`. */
function unboundedReads(plan: string): string[] {
  return plan.split("\n").filter((line) => /Seq Scan on jobs /.test(line));
}

/**
 * The lines of a plan that read `jobs` other than by a key: a sequential scan, an index scan with
 * no index condition (the whole index), or the partial index of held jobs, which finds a job by
 * its worker and so reads every entry the worker left since the last VACUUM.
 */
function unkeyedReads(plan: string): string[] {
  const lines = plan.split("\n");
  return lines.filter(
    (line, i) =>
      /Seq Scan on jobs /.test(line) ||
      /jobs_worker_held_idx/.test(line) ||
      (/Index Scan (Backward )?using jobs_\w+ on jobs |Bitmap Index Scan on jobs_/.test(line) && !/Index Cond:/.test(lines[i + 1] ?? "")),
  );
}

/**
 * The lines of a plan whose index condition joins on an outer row and also carries an array
 * (`id = s.id AND id = ANY ($9)`): the scan runs once per outer row, and btree sorts and
 * deduplicates the whole array on every one of those runs, so a batch of n costs n² log n
 * (docs/write-path.md, "Plans made on a small table").
 */
function arrayRescans(plan: string): string[] {
  return plan.split("\n").filter((line) => /Index Cond: .*= ANY \(\$\d+\)/.test(line) && /= [a-z_]\w*\.\w+/.test(line));
}

/**
 * The lines of a plan that sort rows of `jobs` read by a bitmap scan: every matching row (every
 * PENDING job of the queue, for the claim and the hand-off check) is read and sorted to keep the
 * first few, where `jobs_claim_idx` gives them in order and a walk of it stops at the limit.
 */
function sortedBitmapReads(plan: string): string[] {
  const lines = plan.split("\n");
  return lines.filter((line, i) => /(->|^)\s*Sort\b/.test(line) && lines.slice(i + 1, i + 4).some((next) => /Bitmap Heap Scan on jobs /.test(next)));
}

describe("hot statement plans", () => {
  let core: CoreJobs;
  /** One connection, so every statement is prepared on the session pg_prepared_statements shows. */
  let session: pg.Pool;
  beforeAll(async () => {
    core = await startCoreJobs("plans");
    session = writePathSession(core.db.url);
  });
  afterAll(async () => {
    await session.end();
    await core.db.drop();
  });

  it("runs submit, claim (limited queue or not), delivery mark and success on generic plans after the first five calls", async () => {
    const [open, limited] = [await core.queue(), await core.queue({ maxConcurrency: 1_000 })];
    const worker = await core.worker([open, limited]);
    // A backlog, as a busy queue has: with a few rows every plan costs about the same, and a
    // custom plan that sees the limit or the queue list looks cheaper only on a real table.
    for (const queue of [open, limited]) for (let i = 0; i < 4; i++) await submitJobs(core.db.pool, Array.from({ length: 500 }, () => job(queue)));
    await core.db.pool.query("ANALYZE jobs");
    for (let round = 0; round < ROUNDS; round++) {
      await submitJobs(session, Array.from({ length: 4 + (round % 3) }, () => job(round % 2 === 0 ? open : limited)));
      const claimed = await claimJobs(session, { workerId: worker, queues: [open, limited], limit: 3 + (round % 4), leaseMs: 60_000 }, new Set(round % 2 === 0 ? [] : [limited]));
      expect(claimed.length).toBeGreaterThan(0);
      await markDelivered(session, claimed.slice(0, 1).map((c) => ({ jobId: c.id, attempt: c.attempt, workerId: worker, deliveredAt: new Date() })));
      await recordSuccesses(session, claimed.map((c) => ({ jobId: c.id, attempt: c.attempt, workerId: worker, outcome: { kind: "success", result: Buffer.alloc(0) } })));
    }
    const { rows } = await session.query<{ statement: string; generic_plans: string; custom_plans: string }>(
      "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
    );
    const plans = (pattern: RegExp) => {
      const found = rows.filter((r) => pattern.test(r.statement));
      expect(found, `one prepared statement matching ${pattern}`).toHaveLength(1);
      return { generic: Number(found[0]!.generic_plans), custom: Number(found[0]!.custom_plans) };
    };
    // Six claims of each kind: the sixth runs on the generic plan.
    expect(plans(/WITH caps AS[\s\S]*ELSE 0 END AS cap/)).toEqual({ generic: 1, custom: 5 });
    expect(plans(/WITH caps AS[\s\S]*SELECT count\(\*\) FROM jobs h/)).toEqual({ generic: 1, custom: 5 });
    expect(plans(/INSERT INTO jobs/)).toEqual({ generic: ROUNDS - 5, custom: 5 }); // the backlog went in on another connection
    expect(plans(/AS d\(id, attempt, worker_id, at\)/)).toEqual({ generic: ROUNDS - 5, custom: 5 });
    expect(plans(/AS i\(id, attempt, worker_id, result, delivered_at\)/)).toEqual({ generic: ROUNDS - 5, custom: 5 });
  });

  // docs/write-path.md, "Plans made on a large backlog". Once ANALYZE has seen many PENDING rows,
  // a plan of the claim or the submit must still read `jobs` through its indexes: a sequential
  // scan there reads the whole table on every call.
  it("keeps the claim and the submit on index lookups when planned on a large analyzed backlog", async () => {
    const queue = await core.queue();
    const worker = await core.worker(queue);
    for (let i = 0; i < 6; i++) await submitJobs(core.db.pool, Array.from({ length: 500 }, () => job(queue)));
    await core.db.pool.query("ANALYZE jobs");
    const fresh = writePathSession(core.db.url);
    try {
      for (let round = 0; round < 8; round++) await writePathRound(fresh, queue, worker, round);
      const plans = await cachedPlans(fresh);
      expect([...plans.keys()].sort()).toEqual(["claim", "mark", "submit", "success"]);
      for (const kind of ["claim", "submit"]) expect(unboundedReads(plans.get(kind)!), `${kind}:\n${plans.get(kind)}`).toEqual([]);
      for (const [kind, plan] of plans) expect(arrayRescans(plan), `${kind}:\n${plan}`).toEqual([]);
    } finally {
      await fresh.end();
    }
  });

  // docs/write-path.md, "Plans that read a whole backlog to sort it". The claim's candidates and the
  // submit's hand-off check want the first PENDING jobs of a queue, which a walk of jobs_claim_idx
  // gives in order. Planned inline, a cached plan whose statistics showed a few PENDING jobs read
  // every PENDING job by a bitmap scan and sorted them. Here the session makes the planner rather
  // take that plan (index scans off, as statistics that price the walk too high would), and every
  // plan those statements run, their lookups' own included (auto_explain, nested statements, sent
  // to this client as notices), must still walk the index and sort no bitmap read of `jobs`.
  it("walks jobs_claim_idx for the claim's candidates and the hand-off check whatever the planner would rather do", async () => {
    const queue = await core.queue();
    const worker = await core.worker(queue);
    for (let i = 0; i < 3; i++) await submitJobs(core.db.pool, Array.from({ length: 500 }, () => job(queue)));
    await core.db.pool.query("ANALYZE jobs");
    const biased = writePathSession(core.db.url, { enable_indexscan: "off" });
    const plans: string[] = [];
    biased.on("connect", (client) => client.on("notice", (notice) => plans.push(notice.message ?? "")));
    try {
      await biased.query("LOAD 'auto_explain'");
      for (const set of ["auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on", "auto_explain.log_level = notice"]) await biased.query(`SET ${set}`);
      const claimed = await claimJobs(biased, { workerId: worker, queues: [queue], limit: 10, leaseMs: 60_000 }, new Set());
      expect(claimed).toHaveLength(10);
      const [offered] = await submitJobs(biased, [job(queue)], { workers: [worker], leaseMs: 60_000 });
      expect(offered!.handedOff, "a queue with a backlog takes no hand-off").toBeUndefined();
      const walks = plans.filter((plan) => /Index Scan using jobs_claim_idx on jobs/.test(plan));
      expect(walks.length, `plans:\n${plans.join("\n\n")}`).toBeGreaterThanOrEqual(2);
      for (const plan of plans) expect(sortedBitmapReads(plan), plan).toEqual([]);
    } finally {
      await biased.end();
    }
  });

  // docs/write-path.md, "Plans made on a small table". A connection keeps each statement's generic
  // plan for its life. Made while `jobs` held a few rows, a sequential scan or a whole-index read
  // looked cheapest, and it stayed the plan once the table held thousands of rows.
  it("keeps every hot statement on key lookups when planned on a nearly empty table that then grows", async () => {
    const small = await startCoreJobs("small");
    const fresh = writePathSession(small.db.url);
    try {
      // Autovacuum's ANALYZE would re-plan every statement and hide the fault.
      await small.db.pool.query("ALTER TABLE jobs SET (autovacuum_enabled = off)");
      const queue = await small.queue();
      const worker = await small.worker(queue);
      for (let round = 0; round < 8; round++) await writePathRound(fresh, queue, worker, round);
      const { rows } = await fresh.query<{ generic_plans: string }>("SELECT generic_plans FROM pg_prepared_statements WHERE name LIKE 'jq\\_%'");
      expect(rows.length).toBeGreaterThanOrEqual(4);
      for (const r of rows) expect(Number(r.generic_plans), "every hot statement runs its cached generic plan").toBeGreaterThan(0);

      // The table grows to 6,000 jobs; 1,000 of them were held and finished, as a busy worker's are.
      for (let i = 0; i < 12; i++) await submitJobs(small.db.pool, Array.from({ length: 500 }, () => job(queue)));
      for (let i = 0; i < 10; i++) {
        const claimed = await claimJobs(small.db.pool, { workerId: worker, queues: [queue], limit: 100, leaseMs: 60_000 }, new Set());
        await recordSuccesses(small.db.pool, claimed.map((c) => ({ jobId: c.id, attempt: c.attempt, workerId: worker, outcome: { kind: "success", result: Buffer.alloc(0) } })));
      }
      const plans = await cachedPlans(fresh);
      expect([...plans.keys()].sort()).toEqual(["claim", "mark", "submit", "success"]);
      for (const [kind, plan] of plans) expect(unkeyedReads(plan), `${kind}:\n${plan}`).toEqual([]);
      for (const [kind, plan] of plans) expect(arrayRescans(plan), `${kind}:\n${plan}`).toEqual([]);
    } finally {
      await fresh.end();
      await small.db.drop();
    }
  });
});
