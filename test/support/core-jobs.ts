import pg from "pg";
import { finishAttempts, type FinishRequest } from "../../libs/attempts/index.js";
import { claimJobs, type ClaimedJob } from "../../libs/dispatch/index.js";
import { submitJobs, type NewJob } from "../../libs/jobs/index.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { createQueue, QUEUE_DEFAULTS, type QueueSettings } from "../../libs/queues/index.js";
import { registerWorker } from "../../libs/workers/index.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";

/**
 * A migrated test database with the few steps the core's in-process tests take again and again:
 * a fresh queue, a job in it, a worker for it, a claim, a result. Used by the tests that guard
 * libs/jobs, libs/attempts, libs/dispatch and libs/sweeps directly (docs/testing.md, "Mutation
 * testing": the code under test runs in the test's process, so a mutant can be seen).
 */
export interface CoreJobs {
  readonly db: TestDatabase;
  queue(over?: Partial<QueueSettings>): Promise<string>;
  submit(queue: string, over?: Partial<NewJob>): Promise<string>;
  worker(queue: string | readonly string[]): Promise<string>;
  claim(queue: string, workerId: string, limit?: number): Promise<ClaimedJob[]>;
  /** Submits, claims and reports a failure until the job is DEAD_LETTERED (maxRetries 0 queues). */
  deadLetter(queue: string): Promise<string>;
  events(jobId: string): Promise<{ reason: string; from: string | null; to: string; message: string | null; worker: string | null; attempt: number }[]>;
  /** The job row as stored (snake_case columns); undefined once deleted. */
  job(jobId: string): Promise<JobRow>;
  /** A client LISTENing on `channel`; `heard` fills as notifications arrive. */
  listen(channel: string): Promise<{ heard: string[]; waitFor(n: number): Promise<string[]>; end(): Promise<void> }>;
}

/** A `jobs` row; the times tests compute with are typed, the rest compared as they are. */
export type JobRow = Record<string, unknown> & {
  readonly status: string;
  readonly not_before: Date | null;
  readonly updated_at: Date;
  readonly started_at: Date | null;
  readonly completed_at: Date | null;
  readonly lease_expires_at: Date | null;
};

/** A job to submit with every option at its default. */
export function newJob(queue: string, over: Partial<NewJob> = {}): NewJob {
  return { queue, payload: Buffer.from("x"), metadata: {}, priority: 0, maxRetries: null, timeoutSeconds: null, delayMs: null, runAt: null, idempotencyKey: null, ...over };
}

export async function startCoreJobs(prefix: string): Promise<CoreJobs> {
  const db = await createTestDatabase();
  await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
  let n = 0;
  const self: CoreJobs = {
    db,
    async queue(over = {}) {
      const name = `${prefix}${++n}`;
      await createQueue(db.pool, name, { ...QUEUE_DEFAULTS, ...over }, false);
      return name;
    },
    async submit(queue, over = {}) {
      return (await submitJobs(db.pool, [newJob(queue, over)]))[0]!.job.id;
    },
    async worker(queue) {
      const queues = typeof queue === "string" ? [queue] : [...queue];
      return (await registerWorker(db.pool, { workerId: crypto.randomUUID(), hostname: "h", sdkVersion: "t", queues, concurrency: 10, labels: {} })).workerId;
    },
    claim(queue, workerId, limit = 1) {
      return claimJobs(db.pool, { workerId, queues: [queue], limit, leaseMs: 60_000 }, new Set());
    },
    async deadLetter(queue) {
      const id = await self.submit(queue);
      const w = await self.worker(queue);
      const [job] = await self.claim(queue, w);
      const failure: FinishRequest = { jobId: id, attempt: job!.attempt, workerId: w, outcome: { kind: "failure", message: "boom", retryable: false, reason: "FAILED" } };
      await finishAttempts(db.pool, [failure]);
      return id;
    },
    async events(jobId) {
      const { rows } = await db.pool.query(
        `SELECT reason, from_status AS "from", to_status AS "to", message, worker_id AS worker, attempt FROM job_events WHERE job_id = $1 ORDER BY id`,
        [jobId],
      );
      return rows;
    },
    async job(jobId) {
      return (await db.pool.query<JobRow>("SELECT * FROM jobs WHERE id = $1", [jobId])).rows[0]!;
    },
    async listen(channel) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const heard: string[] = [];
      client.on("notification", (m) => {
        if (m.channel === channel) heard.push(m.payload ?? "");
      });
      await client.query(`LISTEN "${channel}"`);
      return {
        heard,
        async waitFor(count) {
          const deadline = Date.now() + 5_000;
          while (heard.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          return heard;
        },
        end: () => client.end(),
      };
    },
  };
  return self;
}
