/**
 * End-to-end throughput and latency of jq, next to pg-boss on the same Postgres in the same run:
 * no-op jobs from submit to completion, through real processes. See docs/benchmarks.md.
 *
 *                         ┌─ jq_bench ──── apps/api × N ◀── gRPC ── worker processes × W (SDK)
 *   local Postgres ───────┤                   ▲ SubmitJob(s)
 *   (test bed)            │                   │
 *                         └─ pgboss_bench ◀── producer (in this process), worker processes × W (work())
 *
 * For each system, after a warm-up: (1) jobs/s with single submits, 32 in flight; (2) jobs/s with
 * batches of 500; (3) submit→start latency with single submits at an open-loop rate of half the
 * lower of (1) and (2) (--rate-basis). (1) and (2) run from the first submit to the last
 * completion. Every phase reports the CPU of every process per 1,000 jobs.
 *
 * Run: tsc -p tsconfig.json && tsx bench/e2e.ts [--help]
 * Prints tables and one JSON line on stdout (progress on stderr); exits 1 unless every submitted
 * job completed exactly once and every call succeeded, 2 for a bad flag, 130 when interrupted.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { appEntry } from "../test/support/app-process.js";
import { startBenchPostgres, type BenchPostgres } from "./support/bench-postgres.js";
import { countersPerJob, readDatabaseCounters } from "./support/postgres-work.js";
import { startJqSystem } from "./support/e2e-jq.js";
import { E2E_USAGE, parseE2eOptions, type E2eOptions } from "./support/e2e-options.js";
import { startPgBossSystem } from "./support/e2e-pg-boss.js";
import { measureE2ePhase, type E2ePhaseResult, type PhaseContext, type SubmitPlan } from "./support/e2e-phase.js";
import { formatE2eReport, isVerified, type E2eRun, type SystemRun } from "./support/e2e-report.js";
import type { SystemName, SystemUnderTest } from "./support/e2e-system.js";
import { enableStatementStats, STATEMENT_STATS_LIBRARY } from "./support/statement-stats.js";
import { runBenchMain } from "./support/bench-main.js";
import type { Teardown } from "./support/teardown.js";

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function startSystem(name: SystemName, options: E2eOptions, postgres: BenchPostgres, teardown: Teardown): Promise<SystemUnderTest> {
  const common = { workers: options.workers, poolMax: options.poolMax, batchSize: options.batchSize, payloadBytes: options.payloadBytes };
  return name === "jq"
    ? startJqSystem({ ...common, databaseUrl: postgres.databaseUrl, apis: options.apis, concurrency: options.concurrency, apiNodeOptions: options.apiNodeOptions }, teardown)
    : startPgBossSystem({ ...common, serverUrl: postgres.databaseUrl, settings: options.pgBoss }, teardown);
}

async function runSystem(name: SystemName, options: E2eOptions, postgres: BenchPostgres, ctx: PhaseContext, teardown: Teardown): Promise<SystemRun> {
  const system = await startSystem(name, options, postgres, teardown);
  progress(`${name}: ${system.servers.length} server(s) and ${options.workers} workers are up`);
  const phases: E2ePhaseResult[] = [];
  const phase = async (label: string, plan: SubmitPlan): Promise<E2ePhaseResult> => {
    progress(`${name}: ${label}`);
    const result = await measureE2ePhase(system, label, plan, ctx);
    if (result.failedCalls > 0) progress(`${name}: ${label}: ${result.failedCalls} calls failed, first: ${String(result.firstError)}`);
    progress(`${name}: ${label}: ${result.jobs} jobs in ${result.wallSeconds.toFixed(2)} s = ${result.jobsPerSecond.toFixed(0)} jobs/s`);
    phases.push(result);
    return result;
  };

  const singleWarmup = Math.floor(options.warmupJobs / 4);
  const batchWarmup = options.warmupJobs - singleWarmup;
  if (singleWarmup > 0) await phase("warm-up, single", { kind: "single", jobs: singleWarmup, inFlight: options.singleInFlight });
  if (batchWarmup > 0) await phase("warm-up, batch", { kind: "batch", jobs: batchWarmup, inFlight: options.batchesInFlight });
  const single = await phase("single submits", { kind: "single", jobs: options.singleJobs, inFlight: options.singleInFlight });
  const batch = await phase("batch submits", { kind: "batch", jobs: options.batchJobs, inFlight: options.batchesInFlight });
  const basis = { batch: batch.jobsPerSecond, single: single.jobsPerSecond, lower: Math.min(batch.jobsPerSecond, single.jobsPerSecond) }[options.rateBasis];
  const ratePerSecond = options.rate ?? Math.max(1, Math.round(basis / 2));
  const rate = await phase(`open loop at ${ratePerSecond} jobs/s`, { kind: "rate", ratePerSecond, seconds: options.rateSeconds });

  progress(`${name}: stopping the workers and verifying`);
  const workerCounts = await system.stop();
  const submitted = phases.reduce((sum, p) => sum + p.jobs, 0);
  const verification = await system.verify(submitted, workerCounts);
  // The system's connections have closed, so their counters are published (give the backends a moment to exit).
  await sleep(500);
  const databasePerJob = countersPerJob(await readDatabaseCounters(ctx.samplerConnection, system.databaseName), submitted);
  const failedCalls = phases.reduce((sum, p) => sum + p.failedCalls, 0);
  return { system: name, single, batch, rate, verification, workerCounts, databasePerJob, failedCalls };
}

async function bench(options: E2eOptions, teardown: Teardown): Promise<E2eRun> {
  const startedAt = new Date();
  const loadBefore = os.loadavg()[0]!;
  const postgres = await startBenchPostgres(options.statementStats ? { sharedPreloadLibraries: [STATEMENT_STATS_LIBRARY] } : {});
  teardown.add("postgres", postgres.stop);
  // On the `postgres` database, so that its queries are not counted in either system's database.
  const samplerUrl = new URL(postgres.databaseUrl);
  samplerUrl.pathname = "/postgres";
  const samplerConnection = new pg.Client({ connectionString: samplerUrl.toString(), application_name: "bench-sampler" });
  samplerConnection.on("error", () => undefined);
  await samplerConnection.connect();
  teardown.add("sampler connection", () => samplerConnection.end());
  if (options.statementStats) await enableStatementStats(samplerConnection);
  const ctx: PhaseContext = {
    postmasterPid: postgres.postmasterPid,
    samplerConnection,
    signal: teardown.signal,
    stallMs: options.stallSeconds * 1000,
    statementStats: options.statementStats,
  };

  const runs: SystemRun[] = [];
  for (const name of options.systems) runs.push(await runSystem(name, options, postgres, ctx, teardown));
  return { startedAt, cpus: os.availableParallelism(), loadAverage1m: { before: loadBefore, after: os.loadavg()[0]! }, options, runs };
}

runBenchMain(async (teardown) => {
  const options = parseE2eOptions(process.argv.slice(2));
  if (options === "help") {
    process.stdout.write(E2E_USAGE);
    return 0;
  }
  if (options.systems.includes("jq") && !existsSync(appEntry("api"))) {
    throw new Error(`${appEntry("api")} is missing: build first with tsc -p tsconfig.json`);
  }
  const run = await bench(options, teardown);
  process.stdout.write(formatE2eReport(run));
  return run.runs.every(isVerified) ? 0 : 1;
}, E2E_USAGE);
