import { setTimeout as sleep } from "node:timers/promises";
import { ownCpuSeconds, processCpuSeconds, processFamilyCpuSeconds } from "./cpu-time.js";
import { closedLoop, openLoop, percentile, percentileByWindow, type LoadResult } from "./load.js";
import { readPostgres, walBytesBetween, type BenchPostgres } from "./postgres.js";
import { epochMs } from "./protocol.js";
import { readStatements, resetStatements, type StatementTime } from "./statements.js";
import { readWalRecords, type WalRecords } from "./wal-records.js";
import type { SystemUnderTest } from "./system.js";

// One phase of one system: submit jobs one way, wait until every one has completed, and time it
// from the first submit to the last completion, with what every process and Postgres did for it.
//
//   readings ─▶ submit (closed or open loop) ─▶ every job completed ─▶ CPU and WAL readings
//   ─▶ wait settleSeconds ─▶ commit and row counters (Postgres publishes a backend's counters
//   up to 10 s after its last transaction)
//
// The open loop's first `leadInSeconds` run at the same rate and count in every figure but its
// latency percentiles. The settle leaves the machine idle for seconds before each phase, and the
// first few hundred milliseconds of load after that are slow for every process alike (CPUs waking
// from idle: with two idle-priority spinners keeping them busy, the slow start went away;
// docs/benchmarks.md, "Phases"). A producer at a steady rate does not see that step.

export type Plan =
  | { readonly kind: "single"; readonly jobs: number; readonly inFlight: number }
  | { readonly kind: "batch"; readonly jobs: number; readonly inFlight: number }
  | { readonly kind: "rate"; readonly ratePerSecond: number; readonly seconds: number; readonly leadInSeconds: number };

export interface PhaseContext {
  readonly postgres: BenchPostgres;
  readonly signal: AbortSignal;
  readonly stallSeconds: number;
  readonly settleSeconds: number;
  /** Read what the phase's WAL is made of (`--wal-records`). */
  readonly walRecords: boolean;
  /** Jobs the system was given before this phase (its completions count from the start). */
  readonly submittedBefore: number;
}

/** Per job; null where the figure does not apply (Postgres figures of a Redis system). */
export interface PerJob {
  /** Every process of the system: the bench (its producer), servers, workers, Postgres or Redis. */
  readonly cpuMs: number;
  readonly postgresCpuMs: number | null;
  readonly walBytes: number | null;
  readonly rows: number | null;
  readonly commits: number | null;
}

export interface PhaseResult {
  readonly plan: Plan;
  readonly jobs: number;
  readonly failedCalls: number;
  readonly firstError: string | undefined;
  /** First submit to last completion. */
  readonly wallSeconds: number;
  readonly jobsPerSecond: number;
  /** Open loop: the rate achieved while submitting, and submit→handler start percentiles, ms. */
  readonly offeredPerSecond: number | undefined;
  readonly startP50Ms: number | undefined;
  readonly startP99Ms: number | undefined;
  /** Open loop: the p99 of each whole P99_WINDOW_MS of the measured part, in order (how much one window's p99 varies). */
  readonly startP99ByWindowMs: readonly number[] | undefined;
  readonly perJob: PerJob;
  /** CPU ms per job of each process (bench, api#1, worker#1, redis, postgres). */
  readonly cpuMsByProcess: Readonly<Record<string, number>>;
  /** With `--statements`: the statements that took most of Postgres' time in this phase. */
  readonly statements: readonly StatementTime[] | undefined;
  /** With `--wal-records`: the relations and record kinds that took most of the phase's WAL. */
  readonly walRecords: readonly WalRecords[] | undefined;
}

/**
 * The window of `startP99ByWindowMs`. A p99 rests on the slowest 1 % of a window's jobs, and at
 * these rates those come from a few stalls of a few hundred milliseconds (docs/benchmarks.md,
 * "Phases"): one 10 s window's p99 varies by several ms from the next, which the phase's own p99,
 * over three of them by default, does less.
 */
export const P99_WINDOW_MS = 10_000;

function readCpu(system: SystemUnderTest, postmasterPid: number): Record<string, number> {
  const cpu: Record<string, number> = { bench: ownCpuSeconds() };
  for (const p of system.processes) cpu[p.label] = processCpuSeconds(p.pid);
  if (system.databaseName !== undefined) cpu.postgres = processFamilyCpuSeconds(postmasterPid);
  return cpu;
}

function submit(system: SystemUnderTest, plan: Plan, signal: AbortSignal): Promise<LoadResult & { perCall: number }> {
  if (plan.kind === "rate") {
    return openLoop(plan.ratePerSecond, plan.leadInSeconds + plan.seconds, () => system.submitOne(epochMs()), signal).then((r) => ({ ...r, perCall: 1 }));
  }
  const perCall = plan.kind === "batch" ? system.batchSize : 1;
  const call = plan.kind === "batch" ? () => system.submitBatch() : () => system.submitOne();
  return closedLoop(Math.ceil(plan.jobs / perCall), plan.inFlight, call, signal).then((r) => ({ ...r, perCall }));
}

/** Waits until the workers started `submitted` handlers and the system says every job completed. */
async function waitForCompletion(system: SystemUnderTest, submitted: number, ctx: PhaseContext): Promise<void> {
  let seen = -1;
  let progressAt = performance.now();
  for (;;) {
    ctx.signal.throwIfAborted();
    system.workers.throwIfFailed();
    const { started, completed } = system.workers.progress();
    if (started >= submitted && (await system.allCompleted(submitted))) return;
    if (started + completed !== seen) [seen, progressAt] = [started + completed, performance.now()];
    if (performance.now() - progressAt > ctx.stallSeconds * 1000) {
      throw new Error(`${system.name}: no progress for ${ctx.stallSeconds} s (${started} of ${submitted} handlers started)`);
    }
    await sleep(10);
  }
}

export async function runPhase(system: SystemUnderTest, plan: Plan, ctx: PhaseContext): Promise<PhaseResult> {
  const { sampler, postmasterPid } = ctx.postgres;
  const database = system.databaseName;
  const pgBefore = database === undefined ? undefined : await readPostgres(sampler, database);
  const tracked = database !== undefined && ctx.postgres.statements;
  if (tracked) await resetStatements(sampler);
  const benchCommitsBefore = system.benchCommits();
  const cpuBefore = readCpu(system, postmasterPid);
  const startedAt = epochMs();

  const submitted = await submit(system, plan, ctx.signal);
  const jobs = submitted.succeeded * submitted.perCall;
  await waitForCompletion(system, ctx.submittedBefore + jobs, ctx);

  const cpuAfter = readCpu(system, postmasterPid);
  const wallSeconds = ((await system.lastCompletionMs()) - startedAt) / 1000;
  const samples = plan.kind === "rate" ? await system.workers.collect() : [];
  const measuredFrom = startedAt + (plan.kind === "rate" ? plan.leadInSeconds * 1000 : 0);
  const measured = samples.filter(([, submittedAt]) => submittedAt >= measuredFrom).map(([, submittedAt, started]) => [submittedAt, started - submittedAt] as const);
  const startMs = measured.map(([, ms]) => ms);
  const statements = tracked ? await readStatements(sampler, database) : undefined;
  let perJobPostgres: Omit<PerJob, "cpuMs" | "postgresCpuMs"> = { walBytes: null, rows: null, commits: null };
  let walRecords: WalRecords[] | undefined;
  if (database !== undefined && pgBefore !== undefined) {
    const walAt = (await readPostgres(sampler, database)).walLsn;
    if (ctx.walRecords) walRecords = await readWalRecords(ctx.postgres.databaseUrl(database), pgBefore.walLsn, walAt);
    await sleep(ctx.settleSeconds * 1000, undefined, { signal: ctx.signal });
    const after = await readPostgres(sampler, database);
    perJobPostgres = {
      walBytes: (await walBytesBetween(sampler, pgBefore.walLsn, walAt)) / jobs,
      rows: (after.rows - pgBefore.rows) / jobs,
      commits: (after.commits - pgBefore.commits - (system.benchCommits() - benchCommitsBefore)) / jobs,
    };
  }
  const cpuMsByProcess = Object.fromEntries(Object.entries(cpuAfter).map(([label, s]) => [label, ((s - (cpuBefore[label] ?? 0)) * 1000) / jobs]));
  return {
    plan,
    jobs,
    failedCalls: submitted.failed,
    firstError: submitted.failed > 0 ? String(submitted.firstError) : undefined,
    wallSeconds,
    jobsPerSecond: jobs / wallSeconds,
    offeredPerSecond: submitted.offeredPerSecond,
    startP50Ms: plan.kind === "rate" ? percentile(startMs, 50) : undefined,
    startP99Ms: plan.kind === "rate" ? percentile(startMs, 99) : undefined,
    startP99ByWindowMs: plan.kind === "rate" ? percentileByWindow(measured, 99, measuredFrom, P99_WINDOW_MS, Math.floor((plan.seconds * 1000) / P99_WINDOW_MS)) : undefined,
    perJob: {
      cpuMs: Object.values(cpuMsByProcess).reduce((sum, ms) => sum + ms, 0),
      postgresCpuMs: cpuMsByProcess.postgres ?? null,
      ...perJobPostgres,
    },
    cpuMsByProcess,
    statements,
    walRecords,
  };
}
