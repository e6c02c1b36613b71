/**
 * Submit throughput of jq: SubmitJob (unary, many calls in flight) and SubmitJobs (batches),
 * each next to a baseline measured in the same run on the same machine, so a figure from a noisy
 * shared box still means something. See docs/benchmarks.md.
 *
 *   local Postgres (test bed) ─┬─ jq_bench database ── apps/api process ── JqClient ─┐
 *                              └─ bench_baseline.jobs ── pg pool ─────────────────────┼─ this process
 *   grpc echo server process ──────────────────────────── echo client ────────────────┘
 *
 * Run: tsc -p tsconfig.json && tsx bench/submit-throughput.ts [--help]
 * Prints a table and one JSON line on stdout (progress on stderr); exits 1 if any call failed or
 * the tables do not hold exactly the jobs the successful calls submitted, 130 when interrupted.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import os from "node:os";
import { appEntry } from "../test/support/app-process.js";
import { sampleBackends } from "./support/backend-sampler.js";
import { APPLICATION_NAMES, BENCH_QUEUE, startBenchEnvironment } from "./support/bench-environment.js";
import { parseBenchOptions, USAGE, type BenchOptions } from "./support/bench-options.js";
import { countBaselineRows, insertBaselineRows } from "./support/pg-baseline.js";
import { measurePhase, type PhaseResult, type PhaseSpec } from "./support/phase.js";
import { formatReport, isVerified, type RunReport } from "./support/report.js";
import { countJobsInQueue } from "./support/submitted-jobs.js";
import { runBenchMain } from "./support/bench-main.js";
import type { Teardown } from "./support/teardown.js";

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function runPhase(spec: PhaseSpec): Promise<PhaseResult> {
  if (spec.signal?.aborted === true) throw spec.signal.reason;
  progress(`${spec.name}: ${spec.warmupCalls} warm-up + ${spec.calls} calls of ${spec.jobsPerCall}, ${spec.inFlight} in flight`);
  const result = await measurePhase(spec);
  if (result.failedCalls > 0) progress(`${spec.name}: ${result.failedCalls} calls failed, first: ${String(result.firstError)}`);
  return result;
}

async function bench(options: BenchOptions, teardown: Teardown): Promise<RunReport> {
  const startedAt = new Date();
  const loadBefore = os.loadavg()[0]!;
  const { postgres, api, pool, samplerConnection, echo } = await startBenchEnvironment(options, teardown);
  progress(`postgres, apps/api (pid ${api.pid}) and the echo server (pid ${echo.pid}) are up`);

  const payload = randomBytes(options.payloadBytes);
  const job = { queue: BENCH_QUEUE, payload, metadata: {}, priority: 0, idempotencyKey: "" };
  const batch = Array.from({ length: options.batchSize }, () => job);
  const warmup = (calls: number) => Math.ceil(calls * options.warmupFraction);
  const batchCalls = Math.ceil(options.batchJobs / options.batchSize);
  const common = { postmasterPid: postgres.postmasterPid, signal: teardown.signal };
  const unary = { ...common, inFlight: options.unaryInFlight, jobsPerCall: 1, calls: options.unaryJobs, warmupCalls: warmup(options.unaryJobs) };
  const batched = { ...common, inFlight: options.batchesInFlight, jobsPerCall: options.batchSize, calls: batchCalls, warmupCalls: warmup(batchCalls) };
  const baselineConnections = () => sampleBackends(samplerConnection, APPLICATION_NAMES.baseline);
  const apiConnections = () => sampleBackends(samplerConnection, APPLICATION_NAMES.api);
  const { client } = api;

  // Each baseline runs just before the jq phase it is read against, so both see the same noise.
  const pgInsertOneRow = await runPhase({
    ...unary, name: "pg insert 1 row", serverPid: undefined, sampleBackends: baselineConnections,
    call: () => insertBaselineRows(pool, BENCH_QUEUE, payload, 1),
  });
  const grpcEcho = await runPhase({
    ...unary, name: "grpc echo", serverPid: echo.pid,
    call: async () => void (await echo.client.echo(payload)),
  });
  const submitJob = await runPhase({
    ...unary, name: "jq SubmitJob", serverPid: api.pid, sampleBackends: apiConnections,
    call: async () => void (await client.call(client.jobs, "submitJob", job)),
  });
  const pgInsertBatch = await runPhase({
    ...batched, name: `pg insert ${options.batchSize} row${options.batchSize === 1 ? "" : "s"}`, serverPid: undefined, sampleBackends: baselineConnections,
    call: () => insertBaselineRows(pool, BENCH_QUEUE, payload, options.batchSize),
  });
  const submitJobs = await runPhase({
    ...batched, name: "jq SubmitJobs", serverPid: api.pid, sampleBackends: apiConnections,
    call: async () => void (await client.call(client.jobs, "submitJobs", { jobs: batch })),
  });
  const phases = { pgInsertOneRow, grpcEcho, submitJob, pgInsertBatch, submitJobs };

  return {
    startedAt,
    cpus: os.availableParallelism(),
    loadAverage1m: { before: loadBefore, after: os.loadavg()[0]! },
    options,
    phases,
    comparisons: [
      { key: "submitJobVsPgInsertOneRow", jq: submitJob, baseline: pgInsertOneRow },
      { key: "submitJobVsGrpcEcho", jq: submitJob, baseline: grpcEcho },
      { key: "submitJobsVsPgInsertBatch", jq: submitJobs, baseline: pgInsertBatch },
    ],
    // The figures count only calls that answered OK; the tables must hold exactly their jobs.
    verification: {
      submitted: submitJob.storedJobs + submitJobs.storedJobs,
      stored: await countJobsInQueue(pool, BENCH_QUEUE),
      baselineSubmitted: pgInsertOneRow.storedJobs + pgInsertBatch.storedJobs,
      baselineStored: await countBaselineRows(pool),
    },
    failedCalls: Object.values(phases).reduce((sum, phase) => sum + phase.failedCalls, 0),
  };
}

runBenchMain(async (teardown) => {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!existsSync(appEntry("api"))) throw new Error(`${appEntry("api")} is missing: build first with tsc -p tsconfig.json`);
  const run = await bench(options, teardown);
  process.stdout.write(formatReport(run));
  return isVerified(run.verification) && run.failedCalls === 0 ? 0 : 1;
}, USAGE);
