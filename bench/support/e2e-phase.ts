import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { sampleActivity, type ActivityProfile } from "./activity-sampler.js";
import { EVENT_LOOP_RESOLUTION_MS, histogramPercentileMs } from "./api-metrics.js";
import { runClosedLoop } from "./closed-loop.js";
import { epochMs } from "./e2e-protocol.js";
import type { ServerScrape, SystemName, SystemUnderTest } from "./e2e-system.js";
import type { LatencyRecorder } from "./latency-recorder.js";
import { runOpenLoop } from "./open-loop.js";
import { postgresCpuByClient, snapshotPostgresCpu } from "./postgres-cpu-by-client.js";
import { nextTransactionId, walBytesSince, walPosition, writeTransactionsBetween } from "./postgres-work.js";
import { perUnit, readProcessUsage, usedBetween } from "./process-usage.js";
import { startLatencyOf, type StartLatency } from "./start-latency.js";
import { readStatementStats, resetStatementStats, type StatementFigures } from "./statement-stats.js";

// One end-to-end phase: submit jobs one way, wait until every one of them has run and completed,
// and time it from the first submit to the last completion (the database's completed_at /
// completed_on), with what every process and Postgres did meanwhile.
//
//   readings ─▶ submit (closed or open loop) ─▶ the workers have started as many handlers as jobs
//   were submitted ─▶ no unfinished job left in the table ─▶ readings ─▶ last completion time

export type SubmitPlan =
  /** Closed loop: `inFlight` single submits at a time. */
  | { readonly kind: "single"; readonly jobs: number; readonly inFlight: number }
  /** Closed loop: `inFlight` batches at a time; jobs rounded up to whole batches. */
  | { readonly kind: "batch"; readonly jobs: number; readonly inFlight: number }
  /** Open loop: single submits at a fixed rate, each carrying its submit time. */
  | { readonly kind: "rate"; readonly ratePerSecond: number; readonly seconds: number };

export interface PhaseContext {
  readonly postmasterPid: number;
  /** A connection for pg_stat_activity and the server-wide readings, used by nothing else. */
  readonly samplerConnection: pg.Client;
  readonly signal: AbortSignal;
  /** Give up when the workers start no job for this long. */
  readonly stallMs: number;
  /** Whether pg_stat_statements is loaded, so each phase reports its statements. */
  readonly statementStats: boolean;
}

export interface OfferedLoad {
  readonly target: number;
  readonly achieved: number;
  readonly maxInFlight: number;
  /**
   * The system did not keep up: calls failed, the bench could not offer the rate, or the last job
   * completed long after the last submit was due. Its latencies then measure a growing backlog.
   */
  readonly overloaded: boolean;
}

/** A server over one phase, from its own /metrics. */
export interface ServerFigures {
  readonly label: string;
  /** Beyond the 10 ms timer interval of the histogram. */
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
  readonly eventLoopMeanMs: number;
  /** SubmitJob from arrival to answer inside apps/api (bucket-interpolated). */
  readonly submitJobP50Ms: number;
  readonly submitJobP99Ms: number;
}

export interface E2ePhaseResult {
  readonly system: SystemName;
  readonly name: string;
  readonly plan: SubmitPlan;
  readonly jobs: number;
  readonly failedCalls: number;
  readonly firstError: unknown;
  /** First submit to last completion. */
  readonly wallSeconds: number;
  readonly jobsPerSecond: number;
  /** First submit to the last submit's answer. */
  readonly submitSeconds: number;
  /** Per call, as the bench saw it (a batch for batch phases). */
  readonly callP50Ms: number;
  readonly callP99Ms: number;
  /** Rate phases: the rate asked for, the rate achieved, and the most submits in flight at once. */
  readonly offered: OfferedLoad | undefined;
  readonly startLatency: StartLatency | undefined;
  /** CPU seconds per 1,000 jobs: `bench`, each server and worker by label, `postgres`, `total`. */
  readonly cpuSecondsPer1kJobs: Readonly<Record<string, number>>;
  /** The same CPU per wall second (1.0: one core busy all phase long). */
  readonly busyCores: Readonly<Record<string, number>>;
  /**
   * Seconds each process (main thread; Postgres: all its processes) was ready to run but waited
   * for a CPU, per wall second: how much other work on the machine held it back.
   */
  readonly waitingForCpu: Readonly<Record<string, number>>;
  /** WAL Postgres wrote per job (the whole server: one system runs at a time). */
  readonly walBytesPerJob: number;
  /** Transactions that wrote, per job (the whole server). */
  readonly writeTransactionsPerJob: number;
  /** Postgres CPU seconds per 1,000 jobs by client (application_name or backend type). */
  readonly postgresCpuPer1kJobsByClient: Readonly<Record<string, number>>;
  readonly activity: ActivityProfile;
  readonly servers: readonly ServerFigures[];
  /** The bench's own event-loop delay beyond the 10 ms timer interval, ms: its share of the call times. */
  readonly benchEventLoop: { readonly p99Ms: number; readonly meanMs: number };
  /** With --pg-stat-statements: the statements that took most of Postgres' execution time. */
  readonly statements: readonly StatementFigures[] | undefined;
}

/** Longest a healthy system takes, after the last submit was due, to complete the last job. */
const keptUpWithin = (seconds: number): number => Math.max(1, 0.25 * seconds);

function serverFigures(before: readonly ServerScrape[], after: readonly ServerScrape[]): ServerFigures[] {
  return after.map(({ label, metrics }, i) => ({
    label,
    eventLoopP99Ms: metrics.eventLoop.p99Ms,
    eventLoopMaxMs: metrics.eventLoop.maxMs,
    eventLoopMeanMs: metrics.eventLoop.meanMs,
    submitJobP50Ms: histogramPercentileMs(before[i]!.metrics.submitJob, metrics.submitJob, 50),
    submitJobP99Ms: histogramPercentileMs(before[i]!.metrics.submitJob, metrics.submitJob, 99),
  }));
}

interface Submitted {
  readonly jobs: number;
  readonly failed: number;
  readonly firstError: unknown;
  readonly seconds: number;
  readonly latency: LatencyRecorder;
  readonly offered: Omit<OfferedLoad, "overloaded"> | undefined;
}

/** Runs the plan's submits; a rate plan notes when each job's answer reached the bench. */
async function submit(system: SystemUnderTest, plan: SubmitPlan, answeredAt: Map<string, number>, signal: AbortSignal): Promise<Submitted> {
  if (plan.kind === "rate") {
    const submitTimed = async (): Promise<void> => {
      const id = await system.submitOne(epochMs());
      answeredAt.set(id, epochMs());
    };
    const r = await runOpenLoop(plan.ratePerSecond, plan.seconds, submitTimed, signal);
    const offered = { target: plan.ratePerSecond, achieved: r.offeredPerSecond, maxInFlight: r.maxInFlight };
    return { jobs: r.succeeded, failed: r.failed, firstError: r.firstError, seconds: r.wallSeconds, latency: r.latency, offered };
  }
  const perCall = plan.kind === "batch" ? system.batchSize : 1;
  const call = plan.kind === "batch" ? () => system.submitBatch() : async () => void (await system.submitOne());
  const r = await runClosedLoop(Math.ceil(plan.jobs / perCall), plan.inFlight, call, signal);
  return { jobs: r.succeeded * perCall, failed: r.failed, firstError: r.firstError, seconds: r.wallSeconds, latency: r.latency, offered: undefined };
}

/** Polls until no job of the system's queue is unfinished; the workers have started them all by then. */
async function waitUntilFinished(system: SystemUnderTest, targetStarts: number, ctx: PhaseContext): Promise<void> {
  let seen = system.workers.started();
  let lastProgressAt = performance.now();
  while (system.workers.started() < targetStarts) {
    ctx.signal.throwIfAborted();
    system.workers.throwIfFailed();
    const now = system.workers.started();
    if (now !== seen) [seen, lastProgressAt] = [now, performance.now()];
    if (performance.now() - lastProgressAt > ctx.stallMs) {
      throw new Error(`${system.name}: the workers started no job for ${ctx.stallMs} ms (${now} of ${targetStarts} started)`);
    }
    await sleep(10);
  }
  const deadline = performance.now() + ctx.stallMs;
  while (await system.hasUnfinishedJobs()) {
    ctx.signal.throwIfAborted();
    if (performance.now() > deadline) throw new Error(`${system.name}: jobs still unfinished ${ctx.stallMs} ms after every handler started`);
    await sleep(20);
  }
}

export async function measureE2ePhase(system: SystemUnderTest, name: string, plan: SubmitPlan, ctx: PhaseContext): Promise<E2ePhaseResult> {
  ctx.signal.throwIfAborted();
  const sampler = ctx.samplerConnection;
  const processes = [...system.servers, ...system.workerProcesses];
  const startsBefore = system.workers.started();
  const serversBefore = await system.scrapeServers();
  if (plan.kind === "rate") await system.workers.collect(); // Drop samples of earlier phases.
  if (ctx.statementStats) await resetStatementStats(sampler);
  const xidBefore = await nextTransactionId(sampler);
  const walBefore = await walPosition(sampler);
  const pgBefore = await snapshotPostgresCpu(sampler, ctx.postmasterPid);
  const activity = sampleActivity(sampler, system.applicationNames);
  const usageBefore = readProcessUsage(processes, ctx.postmasterPid);
  const benchLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  benchLoop.enable();
  const startedAt = epochMs();

  const answeredAt = new Map<string, number>();
  const submitted = await submit(system, plan, answeredAt, ctx.signal);
  ctx.signal.throwIfAborted();
  await waitUntilFinished(system, startsBefore + submitted.jobs, ctx);

  benchLoop.disable();
  const usageAfter = readProcessUsage(processes, ctx.postmasterPid);
  const profile = await activity.stop();
  const pgAfter = await snapshotPostgresCpu(sampler, ctx.postmasterPid);
  const walBytes = await walBytesSince(sampler, walBefore);
  const writeTransactions = writeTransactionsBetween(xidBefore, await nextTransactionId(sampler));
  const servers = serverFigures(serversBefore, await system.scrapeServers());
  const statements = ctx.statementStats ? await readStatementStats(sampler, system.databaseName, submitted.jobs) : undefined;
  const wallSeconds = ((await system.lastCompletionMs()) - startedAt) / 1000;
  const startLatency = plan.kind === "rate" ? startLatencyOf(await system.workers.collect(), answeredAt) : undefined;

  const lateBy = plan.kind === "rate" ? wallSeconds - plan.seconds : 0;
  const offered =
    submitted.offered === undefined || plan.kind !== "rate"
      ? undefined
      : {
          ...submitted.offered,
          overloaded: submitted.failed > 0 || submitted.offered.achieved < 0.95 * submitted.offered.target || lateBy > keptUpWithin(plan.seconds),
        };
  const cpu = usedBetween(usageBefore.cpu, usageAfter.cpu);
  const thousands = submitted.jobs / 1000;
  return {
    system: system.name,
    name,
    plan,
    jobs: submitted.jobs,
    failedCalls: submitted.failed,
    firstError: submitted.firstError,
    wallSeconds,
    jobsPerSecond: submitted.jobs / wallSeconds,
    submitSeconds: submitted.seconds,
    callP50Ms: submitted.latency.percentile(50),
    callP99Ms: submitted.latency.percentile(99),
    offered,
    startLatency,
    cpuSecondsPer1kJobs: perUnit(cpu, thousands),
    busyCores: perUnit(cpu, wallSeconds),
    waitingForCpu: perUnit(usedBetween(usageBefore.waitingForCpu, usageAfter.waitingForCpu), wallSeconds),
    walBytesPerJob: walBytes / submitted.jobs,
    writeTransactionsPerJob: writeTransactions / submitted.jobs,
    postgresCpuPer1kJobsByClient: perUnit(postgresCpuByClient(pgBefore, pgAfter), thousands),
    activity: profile,
    servers,
    benchEventLoop: {
      p99Ms: Math.max(0, benchLoop.percentile(99) / 1e6 - EVENT_LOOP_RESOLUTION_MS),
      meanMs: Math.max(0, benchLoop.mean / 1e6 - EVENT_LOOP_RESOLUTION_MS),
    },
    statements,
  };
}
