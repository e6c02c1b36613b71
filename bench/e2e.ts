/**
 * jq end to end, next to pg-boss and BullMQ in the same run: no-op jobs from submit to completion,
 * through real processes, on one Postgres with durable settings. See docs/benchmarks.md.
 *
 *                         ┌─ jq_bench ───── apps/api × N ◀── gRPC ── worker processes × W (SDK)
 *   Postgres (durable) ───┤                    ▲ SubmitJob(s)
 *                         └─ pgboss_bench ◀─── producer (this process), worker processes × W (work())
 *   redis-server (no persistence) ◀──────────── producer (this process), worker processes × W (BullMQ)
 *
 * For each system in turn, after a warm-up: (1) single submits, 32 in flight, and (2) batches of
 * 500, each as jobs/s from the first submit to the last completion; (3) single submits at an open-
 * loop rate of half of (1), for submit→start p50/p99. Every phase reports per job: CPU of all the
 * system's processes, Postgres CPU, WAL bytes, rows written and commits.
 *
 * Prints a table and one JSON line on stdout (progress on stderr); exits 0 when every submitted job
 * completed exactly once and every call succeeded, 1 otherwise, 2 for a bad flag, 130 when interrupted.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { startLocalRedis } from "../test/bed/redis.js";
import { appEntry } from "../test/support/app-process.js";
import { startBullMq } from "./support/bullmq.js";
import { startJq } from "./support/jq.js";
import { parseOptions, USAGE, UsageError, type Options } from "./support/options.js";
import { startPgBoss } from "./support/pg-boss.js";
import { runPhase, type PhaseResult, type Plan } from "./support/phase.js";
import { DATABASES, readTableWrites, startBenchPostgres, type BenchPostgres } from "./support/postgres.js";
import { formatReport, isVerified, type SystemRun } from "./support/report.js";
import type { SystemName, SystemUnderTest } from "./support/system.js";
import { runBench, type Teardown } from "./support/teardown.js";

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

async function startSystem(name: SystemName, options: Options, postgres: BenchPostgres, teardown: Teardown): Promise<SystemUnderTest> {
  if (name === "jq") return startJq(postgres.databaseUrl(DATABASES.jq), options, teardown);
  if (name === "pg-boss") return startPgBoss(postgres.databaseUrl(DATABASES["pg-boss"]), options, teardown);
  const redis = await startLocalRedis();
  teardown.add("redis", redis.stop);
  return startBullMq(redis, options, teardown);
}

async function runSystem(name: SystemName, options: Options, postgres: BenchPostgres, teardown: Teardown): Promise<SystemRun> {
  const system = await startSystem(name, options, postgres, teardown);
  progress(`${name}: up`);
  let submitted = 0;
  let failedCalls = 0;
  const phase = async (label: string, plan: Plan): Promise<PhaseResult> => {
    progress(`${name}: ${label}`);
    const ctx = { postgres, signal: teardown.signal, stallSeconds: options.stallSeconds, settleSeconds: options.settleSeconds, walRecords: options.walRecords, submittedBefore: submitted };
    const result = await runPhase(system, plan, ctx);
    submitted += result.jobs;
    failedCalls += result.failedCalls;
    if (result.firstError !== undefined) progress(`${name}: ${label}: ${result.failedCalls} calls failed, first: ${result.firstError}`);
    progress(`${name}: ${label}: ${result.jobs} jobs in ${result.wallSeconds.toFixed(2)} s = ${result.jobsPerSecond.toFixed(0)} jobs/s`);
    return result;
  };
  const warmupSingle = Math.floor(options.warmupJobs / 4);
  if (warmupSingle > 0) await phase("warm-up, single", { kind: "single", jobs: warmupSingle, inFlight: options.singleInFlight });
  if (options.warmupJobs > warmupSingle) await phase("warm-up, batches", { kind: "batch", jobs: options.warmupJobs - warmupSingle, inFlight: options.batchesInFlight });
  const single = await phase("single submits", { kind: "single", jobs: options.singleJobs, inFlight: options.singleInFlight });
  const batch = await phase("batches", { kind: "batch", jobs: options.batchJobs, inFlight: options.batchesInFlight });
  const ratePerSecond = options.rate ?? Math.max(1, Math.round(single.jobsPerSecond / 2));
  const rate = await phase(`open loop at ${ratePerSecond} jobs/s`, { kind: "rate", ratePerSecond, seconds: options.rateSeconds, leadInSeconds: options.rateLeadInSeconds });
  progress(`${name}: stopping and verifying`);
  const verification = await system.finish(submitted);
  // Its backends have exited, so their counters are published (give them a moment to).
  await sleep(500);
  const tableWrites = system.databaseName === undefined ? [] : await readTableWrites(postgres.databaseUrl(system.databaseName));
  return { system: name, durable: name !== "bullmq", single, batch, rate, verification, failedCalls, tableWrites };
}

async function main(teardown: Teardown): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") return void process.stdout.write(USAGE), 0;
  if (options.systems.includes("jq") && !existsSync(appEntry("api"))) throw new Error(`${appEntry("api")} is missing: build first with tsc -p tsconfig.json`);
  const startedAt = new Date();
  const loadBefore = os.loadavg()[0]!;
  const postgres = await startBenchPostgres(options.fastPostgres, options.statements);
  teardown.add("postgres", postgres.stop);
  const runs: SystemRun[] = [];
  for (const name of options.systems) runs.push(await runSystem(name, options, postgres, teardown));
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const run = { startedAt, seconds, cpus: os.availableParallelism(), load: [loadBefore, os.loadavg()[0]!] as const, postgresSettings: postgres.settings, options, runs };
  process.stdout.write(formatReport(run));
  return runs.every(isVerified) ? 0 : 1;
}

runBench(main, USAGE, (error) => error instanceof UsageError);
