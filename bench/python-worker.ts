/**
 * Worker throughput of the Python SDK (sdk/python) next to the TypeScript SDK, measured in the
 * same run against one apps/api on a Postgres with durable commits. See docs/benchmarks.md.
 *
 * Each round, for each SDK in turn: N no-op jobs wait on a paused queue, W worker processes of that
 * SDK (concurrency C each) register, the queue is resumed, and the figure is N divided by the time
 * from the resume to the last completion (both read from Postgres' clock). Rounds alternate the
 * SDKs so that a noisy minute on a shared machine hits both; a warm-up round comes first.
 *
 * Run: tsc -p tsconfig.json && tsx bench/python-worker.ts [--jobs 5000] [--workers 2] [--concurrency 32] [--rounds 2]
 * Prints a table and one JSON line on stdout (progress on stderr); exits 1 unless every job ran
 * exactly once (DONE on its first attempt, one handler start each) and every worker exited 0.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import { ensurePythonVenv, repoRoot } from "../test/support/python-sdk.js";
import { readJsonLines } from "../test/support/json-lines.js";
import { startWorkerProcess } from "../test/support/worker-process.js";
import { startApi } from "./support/jq.js";
import { UsageError } from "./support/options.js";
import { DATABASES, startBenchPostgres } from "./support/postgres.js";
import { runBench, type Teardown } from "./support/teardown.js";

const USAGE = "usage: tsx bench/python-worker.ts [--jobs N] [--workers N] [--concurrency N] [--rounds N]\n";
type Sdk = "typescript" | "python";

interface BenchWorker {
  ready(): Promise<unknown>;
  started(): number;
  stop(): Promise<number | string>;
}

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function options() {
  const { values } = parseArgs({
    options: { jobs: { type: "string", default: "5000" }, workers: { type: "string", default: "2" }, concurrency: { type: "string", default: "32" }, rounds: { type: "string", default: "2" } },
  });
  const int = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
    return n;
  };
  return { jobs: int("jobs"), workers: int("workers"), concurrency: int("concurrency"), rounds: int("rounds") };
}

/** sdk/python/tests/fixtures/worker_main.py, which prints the same two lines per job as the TS fixture. */
function startPythonWorker(venv: string, address: string, queue: string, concurrency: number): BenchWorker {
  const child = spawn(`${venv}/bin/python`, [`${repoRoot}sdk/python/tests/fixtures/worker_main.py`], {
    env: { PATH: process.env.PATH ?? "", JQ_FIXTURE_ADDRESS: address, JQ_FIXTURE_QUEUE: queue, JQ_FIXTURE_CONCURRENCY: String(concurrency) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Record<string, unknown>[] = [];
  readJsonLines(child.stdout!, (line) => lines.push(line));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  return {
    async ready() {
      while (!lines.some((l) => l.event === "ready")) {
        if (child.exitCode !== null) throw new Error(`python worker exited (${child.exitCode})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    started: () => lines.filter((l) => l.event === "started").length,
    stop: () => (child.kill("SIGTERM"), exited),
  };
}

function startTsWorker(address: string, queue: string, concurrency: number): BenchWorker {
  const w = startWorkerProcess({ address, queues: [queue], concurrency });
  return { ready: () => w.ready(), started: () => w.started().length, stop: () => (w.kill("SIGTERM"), w.exited()) };
}

async function main(teardown: Teardown): Promise<number> {
  const opts = options();
  const loadBefore = os.loadavg()[0]!;
  const venv = await ensurePythonVenv();
  const postgres = await startBenchPostgres(false); // durable: fsync and synchronous_commit on
  teardown.add("postgres", postgres.stop);
  const databaseUrl = postgres.databaseUrl(DATABASES.jq);
  const api = await startApi(databaseUrl, { poolMax: 10, batchSize: 1000 }, "bench-api-1", teardown);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  teardown.add("observer connection", () => db.end());
  const c = api.client;

  const results: { round: number; sdk: Sdk; jobs: number; seconds: number; jobsPerSecond: number }[] = [];
  let ok = true;
  // Round 0 is a warm-up of 1,000 jobs per SDK (caches, JIT, connections), not counted.
  for (let round = 0; round <= opts.rounds; round++) {
    for (const sdk of ["typescript", "python"] as const) {
      const jobs = round === 0 ? Math.min(1000, opts.jobs) : opts.jobs;
      const queue = `bench.${sdk}.${round}`;
      await c.call(c.admin, "createQueue", { name: queue, paused: true });
      for (let left = jobs; left > 0; left -= 500) {
        await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: Math.min(500, left) }, () => ({ queue, payload: Buffer.alloc(100), metadata: {}, priority: 0, idempotencyKey: "" })) });
      }
      const workers = Array.from({ length: opts.workers }, () =>
        sdk === "python" ? startPythonWorker(venv, api.address, queue, opts.concurrency) : startTsWorker(api.address, queue, opts.concurrency),
      );
      teardown.add(`${sdk} workers`, () => Promise.all(workers.map((w) => w.stop())));
      await Promise.all(workers.map((w) => w.ready()));
      const t0 = Number((await db.query<{ t: string }>("SELECT extract(epoch FROM clock_timestamp()) AS t")).rows[0]!.t);
      await c.call(c.admin, "resumeQueue", { name: queue });
      for (;;) {
        const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE queue = $1 AND status = 'DONE'", [queue]);
        if (rows[0]!.n >= jobs) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const { rows } = await db.query<{ t: string; retried: number }>(
        "SELECT extract(epoch FROM max(completed_at)) AS t, count(*) FILTER (WHERE attempt > 1)::int AS retried FROM jobs WHERE queue = $1",
        [queue],
      );
      const seconds = Number(rows[0]!.t) - t0;
      const codes = await Promise.all(workers.map((w) => w.stop()));
      const starts = workers.reduce((sum, w) => sum + w.started(), 0);
      if (rows[0]!.retried !== 0 || starts !== jobs || codes.some((code) => code !== 0)) {
        ok = false;
        progress(`${sdk} round ${round}: NOT VERIFIED (retried ${rows[0]!.retried}, handler starts ${starts}, exits ${codes.join(",")})`);
      }
      progress(`${sdk} ${round === 0 ? "warm-up" : `round ${round}`}: ${jobs} jobs in ${seconds.toFixed(2)} s = ${(jobs / seconds).toFixed(0)} jobs/s`);
      if (round > 0) results.push({ round, sdk, jobs, seconds, jobsPerSecond: jobs / seconds });
    }
  }

  const mean = (sdk: Sdk) => {
    const rs = results.filter((r) => r.sdk === sdk);
    return rs.reduce((s, r) => s + r.jobs, 0) / rs.reduce((s, r) => s + r.seconds, 0);
  };
  const ratio = mean("python") / mean("typescript");
  const head = `python-worker ${new Date().toISOString()}  ${os.cpus().length} cpus, load ${loadBefore.toFixed(2)} -> ${os.loadavg()[0]!.toFixed(2)}  1 api (pool 10), durable postgres, ${opts.workers} workers x concurrency ${opts.concurrency}, ${opts.jobs} jobs per round`;
  const table = results.map((r) => `${String(r.round).padEnd(6)}${r.sdk.padEnd(12)}${String(r.jobs).padStart(6)}${r.seconds.toFixed(2).padStart(9)}${r.jobsPerSecond.toFixed(0).padStart(9)}`);
  process.stdout.write(
    [head, "", "round sdk           jobs   wall s   jobs/s", ...table, "", `all rounds: typescript ${mean("typescript").toFixed(0)} jobs/s, python ${mean("python").toFixed(0)} jobs/s, python / typescript ${ratio.toFixed(2)}x`, ok ? `verified: every job ran once` : "NOT VERIFIED", ""].join("\n"),
  );
  process.stdout.write(`${JSON.stringify({ bench: "python-worker", options: opts, results, typescriptJobsPerSecond: mean("typescript"), pythonJobsPerSecond: mean("python"), ratio, verified: ok })}\n`);
  return ok ? 0 : 1;
}

runBench(main, USAGE, (error) => error instanceof UsageError);
