import type { BackendSampling, BackendStates } from "./backend-sampler.js";
import { runClosedLoop } from "./closed-loop.js";
import { ownCpuSeconds, processCpuSeconds, processFamilyCpuSeconds } from "./cpu-time.js";

// One measured phase of the bench: a warm-up (connections, JIT, caches; not counted), then a
// fixed number of calls at a fixed concurrency, timed, with the CPU each process used meanwhile.

export interface PhaseSpec {
  readonly name: string;
  /** Calls in flight at once. */
  readonly inFlight: number;
  readonly jobsPerCall: number;
  readonly calls: number;
  readonly warmupCalls: number;
  /** The process answering the calls (apps/api, the echo server); none when the bench talks to Postgres itself. */
  readonly serverPid: number | undefined;
  readonly postmasterPid: number;
  readonly call: (index: number) => Promise<void>;
  /** Starts sampling the Postgres connections the calls use, when they use any. */
  readonly sampleBackends?: () => BackendSampling;
  /** Stops the phase early (Ctrl-C); measurePhase then throws the abort reason. */
  readonly signal?: AbortSignal;
}

export interface CpuFigures {
  readonly bench: number;
  readonly server: number | null;
  readonly postgres: number;
}

export interface PhaseResult {
  readonly name: string;
  readonly inFlight: number;
  readonly jobsPerCall: number;
  /** Jobs of the measured calls that succeeded. */
  readonly jobs: number;
  /** Jobs of every call that succeeded, warm-up included: what the database must now hold. */
  readonly storedJobs: number;
  readonly wallSeconds: number;
  readonly jobsPerSecond: number;
  /** Per call (one job for unary, one batch for batch). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuSecondsPer1kJobs: CpuFigures;
  /** CPU seconds per wall second: 1.0 is one core kept busy for the whole phase. */
  readonly busyCores: CpuFigures;
  /** The Postgres connections of whoever runs the calls' statements; undefined when none do. */
  readonly backends: BackendStates | undefined;
  readonly failedCalls: number;
  readonly firstError: unknown;
}

function sampleCpu(spec: PhaseSpec): CpuFigures {
  return {
    bench: ownCpuSeconds(),
    server: spec.serverPid === undefined ? null : processCpuSeconds(spec.serverPid),
    postgres: processFamilyCpuSeconds(spec.postmasterPid),
  };
}

function scaleCpu(used: CpuFigures, divisor: number): CpuFigures {
  return {
    bench: used.bench / divisor,
    server: used.server === null ? null : used.server / divisor,
    postgres: used.postgres / divisor,
  };
}

export async function measurePhase(spec: PhaseSpec): Promise<PhaseResult> {
  const warmup = await runClosedLoop(spec.warmupCalls, spec.inFlight, spec.call, spec.signal);
  const sampling = spec.sampleBackends?.();
  const before = sampleCpu(spec);
  const measured = await runClosedLoop(spec.calls, spec.inFlight, (i) => spec.call(spec.warmupCalls + i), spec.signal);
  const after = sampleCpu(spec);
  const backends = await sampling?.stop();
  spec.signal?.throwIfAborted();

  const used: CpuFigures = {
    bench: after.bench - before.bench,
    server: after.server === null || before.server === null ? null : after.server - before.server,
    postgres: after.postgres - before.postgres,
  };
  const jobs = measured.succeeded * spec.jobsPerCall;
  return {
    name: spec.name,
    inFlight: spec.inFlight,
    jobsPerCall: spec.jobsPerCall,
    jobs,
    storedJobs: (warmup.succeeded + measured.succeeded) * spec.jobsPerCall,
    wallSeconds: measured.wallSeconds,
    jobsPerSecond: jobs / measured.wallSeconds,
    p50Ms: measured.latency.percentile(50),
    p99Ms: measured.latency.percentile(99),
    cpuSecondsPer1kJobs: scaleCpu(used, jobs / 1000),
    busyCores: scaleCpu(used, measured.wallSeconds),
    backends,
    failedCalls: warmup.failed + measured.failed,
    firstError: warmup.firstError ?? measured.firstError,
  };
}
