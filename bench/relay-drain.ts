/**
 * How fast the outbox relay's read drains a backlog (docs/write-path.md, "Events in the job row"):
 * JOBS jobs go submit → claim → success through the real statements (4 events each) on a local
 * Postgres with durable settings while nothing relays, as during a Kafka outage; then the relay's
 * read (`readEventsAfter`) runs from the start of the log to its end in reads of BATCH, as the relay
 * does when Kafka is back, without sending. Prints the drain time, events/s and the time of the
 * first, middle and last full read: the Postgres side of catching up, the part the event log's
 * layout decides.
 *
 *   npm run bench:relay-drain -- [--jobs 40000] [--batch 5000]
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { recordSuccesses } from "../libs/attempts/report-successes.js";
import { claimJobs } from "../libs/dispatch/index.js";
import { submitJobs, type NewJob } from "../libs/jobs/index.js";
import { readEventsAfter, readRelayCursor } from "../libs/outbox/outbox-store.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../libs/postgres/index.js";
import { createQueue, QUEUE_DEFAULTS } from "../libs/queues/index.js";
import { DURABLE_SETTINGS, startLocalPostgres } from "../test/bed/postgres.js";

const { values: flags } = parseArgs({ options: { jobs: { type: "string", default: "40000" }, batch: { type: "string", default: "5000" } } });
const WRITE_BATCH = 500;
const jobs = Math.ceil(Number(flags.jobs) / WRITE_BATCH) * WRITE_BATCH;
const readBatch = Number(flags.batch);
const job: NewJob = { queue: "q", payload: Buffer.alloc(100, 7), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null };

const server = await startLocalPostgres({ settings: { ...DURABLE_SETTINGS } });
const pool = new pg.Pool({ connectionString: server.endpoint, max: 1 });
try {
  await migrate(pool, await loadMigrations(MIGRATIONS_DIR));
  await createQueue(pool, "q", { ...QUEUE_DEFAULTS }, false);
  const worker = randomUUID();
  await pool.query("INSERT INTO workers (worker_id, hostname, queues, concurrency) VALUES ($1, 'h', '{q}', $2)", [worker, WRITE_BATCH]);
  const outcome = { kind: "success" as const, result: Buffer.alloc(0) };
  const writeStart = performance.now();
  for (let written = 0; written < jobs; written += WRITE_BATCH) {
    await submitJobs(pool, Array.from({ length: WRITE_BATCH }, () => job));
    const claimed = await claimJobs(pool, { workerId: worker, queues: ["q"], limit: WRITE_BATCH, leaseMs: 60_000 }, new Set());
    await recordSuccesses(pool, claimed.map((c) => ({ jobId: c.id, attempt: c.attempt, workerId: worker, outcome, deliveredAt: new Date() })));
  }
  const writeSeconds = (performance.now() - writeStart) / 1000;
  await pool.query("VACUUM ANALYZE");

  let cursor = await readRelayCursor(pool);
  let events = 0;
  const reads: number[] = [];
  const drainStart = performance.now();
  for (;;) {
    const t = performance.now();
    const rows = await readEventsAfter(pool, cursor, readBatch);
    reads.push(performance.now() - t);
    if (rows.length === 0) break;
    events += rows.length;
    cursor = rows[rows.length - 1]!.position;
  }
  const seconds = (performance.now() - drainStart) / 1000;
  const ms = (x: number | undefined) => `${(x ?? 0).toFixed(0)} ms`;
  const full = reads.slice(0, -1);
  console.log(
    `relay drain: ${jobs} jobs, ${events} events (written in ${writeSeconds.toFixed(1)} s); read back in ${seconds.toFixed(1)} s = ` +
      `${(events / seconds).toFixed(0)} events/s, ${full.length} full reads of ${readBatch}: first ${ms(full[0])}, middle ${ms(full[Math.floor(full.length / 2)])}, last ${ms(full.at(-1))}`,
  );
} finally {
  await pool.end();
  await server.stop();
}
