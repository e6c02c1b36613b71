import type { BenchOptions } from "./bench-options.js";
import type { CpuFigures, PhaseResult } from "./phase.js";

// How a run is shown: a table for people, and one JSON line with every figure for a closing
// note or a script to quote.

/** A jq phase next to the baseline it is read against. */
export interface Comparison {
  readonly key: string;
  readonly jq: PhaseResult;
  readonly baseline: PhaseResult;
}

export interface Ratios {
  /** jq's jobs/s over the baseline's: below 1 means jq is slower. */
  readonly jobsPerSecond: number;
  /** jq's latency over the baseline's: above 1 means jq is slower. */
  readonly p50: number;
  readonly p99: number;
}

export function ratiosOf(c: Comparison): Ratios {
  return {
    jobsPerSecond: c.jq.jobsPerSecond / c.baseline.jobsPerSecond,
    p50: c.jq.p50Ms / c.baseline.p50Ms,
    p99: c.jq.p99Ms / c.baseline.p99Ms,
  };
}

function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  "))
    .map((line) => line.trimEnd())
    .join("\n");
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "-");
const cpuTriple = (cpu: CpuFigures, digits: number): string =>
  [cpu.bench, cpu.server ?? Number.NaN, cpu.postgres].map((value) => fixed(value, digits)).join(" / ");

function formatTable(phases: readonly PhaseResult[], comparisons: readonly Comparison[]): string {
  const phaseRows = [
    [
      "phase",
      "in flight",
      "jobs",
      "wall s",
      "jobs/s",
      "p50 ms",
      "p99 ms",
      "cpu s/1k jobs bench/server/pg",
      "busy cores bench/server/pg",
      "pg conns run/lock/idle",
    ],
    ...phases.map((p) => [
      p.name,
      p.jobsPerCall === 1 ? String(p.inFlight) : `${p.inFlight}x${p.jobsPerCall}`,
      String(p.jobs),
      fixed(p.wallSeconds, 2),
      fixed(p.jobsPerSecond, 0),
      fixed(p.p50Ms, 1),
      fixed(p.p99Ms, 1),
      cpuTriple(p.cpuSecondsPer1kJobs, 3),
      cpuTriple(p.busyCores, 2),
      p.backends === undefined
        ? "-"
        : [p.backends.running, p.backends.waitingForLock, p.backends.idle].map((value) => fixed(value, 1)).join(" / "),
    ]),
  ];
  const comparisonRows = [
    ["jq / baseline", "jobs/s", "p50", "p99"],
    ...comparisons.map((c) => {
      const r = ratiosOf(c);
      return [`${c.jq.name} / ${c.baseline.name}`, `${fixed(r.jobsPerSecond, 2)}x`, `${fixed(r.p50, 2)}x`, `${fixed(r.p99, 2)}x`];
    }),
  ];
  return `${alignColumns(phaseRows)}\n\n${alignColumns(comparisonRows)}`;
}

/** Rounds every number in a JSON value to 4 significant digits, so the line stays short. */
function roundedForJson(_key: string, value: unknown): unknown {
  if (typeof value !== "number" || Number.isInteger(value)) return value;
  return Number.isFinite(value) ? Number(value.toPrecision(4)) : null;
}

function phaseForJson(p: PhaseResult): Record<string, unknown> {
  return {
    inFlight: p.inFlight,
    jobsPerCall: p.jobsPerCall,
    jobs: p.jobs,
    wallSeconds: p.wallSeconds,
    jobsPerSecond: p.jobsPerSecond,
    p50Ms: p.p50Ms,
    p99Ms: p.p99Ms,
    cpuSecondsPer1kJobs: p.cpuSecondsPer1kJobs,
    busyCores: p.busyCores,
    pgConnections: p.backends === undefined ? null : { running: p.backends.running, waitingForLock: p.backends.waitingForLock, idle: p.backends.idle },
    failedCalls: p.failedCalls,
  };
}

/** Everything one run found, as printed. */
export interface RunReport {
  readonly startedAt: Date;
  readonly cpus: number;
  readonly loadAverage1m: { readonly before: number; readonly after: number };
  readonly options: BenchOptions;
  /** By the key the JSON line gives them. */
  readonly phases: Readonly<Record<string, PhaseResult>>;
  readonly comparisons: readonly Comparison[];
  /** Jobs the successful calls submitted, and what jq's jobs table and the baseline table hold. */
  readonly verification: { readonly submitted: number; readonly stored: number; readonly baselineSubmitted: number; readonly baselineStored: number };
  readonly failedCalls: number;
}

export function isVerified(v: RunReport["verification"]): boolean {
  return v.stored === v.submitted && v.baselineStored === v.baselineSubmitted;
}

/** The table for people, then one JSON line with every figure. */
export function formatReport(run: RunReport): string {
  const { options, verification: v } = run;
  const header =
    `submit-throughput ${run.startedAt.toISOString()}  ${run.cpus} cpus, load ${run.loadAverage1m.before.toFixed(2)} -> ` +
    `${run.loadAverage1m.after.toFixed(2)}  payload ${options.payloadBytes} B, api pool ${options.poolMax}, ` +
    "server = apps/api or echo process";
  const verdict = isVerified(v)
    ? `verified: ${v.stored} jobs in jq's jobs table, as submitted by the successful calls (warm-up included)`
    : `NOT VERIFIED: jq's jobs table holds ${v.stored} jobs, the successful calls submitted ${v.submitted}; ` +
      `baseline table ${v.baselineStored} of ${v.baselineSubmitted}`;
  const json = JSON.stringify(
    {
      bench: "submit-throughput",
      startedAt: run.startedAt.toISOString(),
      cpus: run.cpus,
      loadAverage1m: run.loadAverage1m,
      options,
      phases: Object.fromEntries(Object.entries(run.phases).map(([key, phase]) => [key, phaseForJson(phase)])),
      ratios: Object.fromEntries(run.comparisons.map((c) => [c.key, ratiosOf(c)])),
      verifiedJobs: isVerified(v) ? v.stored : null,
      failedCalls: run.failedCalls,
    },
    roundedForJson,
  );
  return `${header}

${formatTable(Object.values(run.phases), run.comparisons)}

${verdict}
${json}
`;
}
