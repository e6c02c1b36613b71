import type { DatabaseCounters } from "./postgres-work.js";
import type { E2eOptions } from "./e2e-options.js";
import type { E2ePhaseResult } from "./e2e-phase.js";
import type { WorkerCounts } from "./e2e-protocol.js";
import type { SystemName, Verification } from "./e2e-system.js";

// How an end-to-end run is shown: the figures, CPU per process, jq/pg-boss ratios, where the time
// went (Postgres by client, what its connections waited on and ran, apps/api's event loop), the
// verification, and one JSON line with everything.

export interface SystemRun {
  readonly system: SystemName;
  readonly single: E2ePhaseResult;
  readonly batch: E2ePhaseResult;
  readonly rate: E2ePhaseResult;
  readonly verification: Verification;
  readonly workerCounts: readonly WorkerCounts[];
  /** pg_stat_database of the system's database per job submitted, read after the system stopped. */
  readonly databasePerJob: DatabaseCounters;
  /** Calls that failed in any phase, warm-up included. */
  readonly failedCalls: number;
}

export interface E2eRun {
  readonly startedAt: Date;
  readonly cpus: number;
  readonly loadAverage1m: { readonly before: number; readonly after: number };
  readonly options: E2eOptions;
  readonly runs: readonly SystemRun[];
}

const PHASES = ["single", "batch", "rate"] as const;

const fixed = (value: number | undefined, digits: number): string => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : "-");

function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => row.map((cell, column) => (column <= 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  "))
    .map((line) => line.trimEnd())
    .join("\n");
}

function phaseLabel(p: E2ePhaseResult, batchSize: number): string {
  switch (p.plan.kind) {
    case "single":
      return `single, ${p.plan.inFlight} in flight`;
    case "batch":
      return `batch, ${p.plan.inFlight}x${batchSize} in flight`;
    case "rate":
      return `rate ${p.plan.ratePerSecond.toFixed(0)}/s, single, ${p.plan.seconds} s${p.offered?.overloaded === true ? " OVERLOADED" : ""}`;
  }
}

export function isVerified(run: SystemRun): boolean {
  return run.verification.problem === undefined && run.failedCalls === 0;
}

/** jq's figure over pg-boss': jobs/s above 1 and latency or CPU below 1 mean jq does better. */
export function ratios(jq: SystemRun, pgBoss: SystemRun): Record<string, number> {
  return {
    singleJobsPerSecond: jq.single.jobsPerSecond / pgBoss.single.jobsPerSecond,
    batchJobsPerSecond: jq.batch.jobsPerSecond / pgBoss.batch.jobsPerSecond,
    rateStartP50: (jq.rate.startLatency?.p50Ms ?? Number.NaN) / (pgBoss.rate.startLatency?.p50Ms ?? Number.NaN),
    rateStartP99: (jq.rate.startLatency?.p99Ms ?? Number.NaN) / (pgBoss.rate.startLatency?.p99Ms ?? Number.NaN),
    singleCpuPer1kJobs: jq.single.cpuSecondsPer1kJobs.total! / pgBoss.single.cpuSecondsPer1kJobs.total!,
    batchCpuPer1kJobs: jq.batch.cpuSecondsPer1kJobs.total! / pgBoss.batch.cpuSecondsPer1kJobs.total!,
    rateCpuPer1kJobs: jq.rate.cpuSecondsPer1kJobs.total! / pgBoss.rate.cpuSecondsPer1kJobs.total!,
  };
}

function figuresTable(runs: readonly SystemRun[], batchSize: number): string {
  const rows = [["system", "phase", "jobs", "wall s", "jobs/s", "call p50/p99 ms", "start p50/p99/max ms", "start = call + after p50|p99 ms"]];
  for (const run of runs) {
    for (const key of PHASES) {
      const p = run[key];
      const s = p.startLatency;
      rows.push([
        run.system,
        phaseLabel(p, batchSize),
        String(p.jobs),
        fixed(p.wallSeconds, 2),
        fixed(p.jobsPerSecond, 0),
        `${fixed(p.callP50Ms, 1)} / ${fixed(p.callP99Ms, 1)}`,
        s === undefined ? "-" : `${fixed(s.p50Ms, 1)} / ${fixed(s.p99Ms, 1)} / ${fixed(s.maxMs, 0)}`,
        s === undefined ? "-" : `${fixed(s.submitCallP50Ms, 1)} + ${fixed(s.afterAnswerP50Ms, 1)} | ${fixed(s.submitCallP99Ms, 1)} + ${fixed(s.afterAnswerP99Ms, 1)}`,
      ]);
    }
  }
  return alignColumns(rows);
}

function cpuTable(runs: readonly SystemRun[]): string {
  const rows = [["system", "phase", "bench", "api(s)", "workers", "postgres", "total", "busy cores bench/api/workers/pg/total", "pg WAL bytes/job"]];
  for (const run of runs) {
    for (const key of PHASES) {
      const p = run[key];
      const pick = (figures: Readonly<Record<string, number>>, prefix: string, digits: number): string => {
        const values = Object.entries(figures).filter(([label]) => label.startsWith(prefix)).map(([, v]) => v);
        return values.length === 0 ? "-" : values.map((v) => fixed(v, digits)).join("+");
      };
      const cores = (label: string) => (label === "api#" || label === "worker#" ? pick(p.busyCores, label, 2) : fixed(p.busyCores[label], 2));
      rows.push([
        run.system,
        key,
        fixed(p.cpuSecondsPer1kJobs.bench, 3),
        pick(p.cpuSecondsPer1kJobs, "api#", 3),
        pick(p.cpuSecondsPer1kJobs, "worker#", 3),
        fixed(p.cpuSecondsPer1kJobs.postgres, 3),
        fixed(p.cpuSecondsPer1kJobs.total, 3),
        ["bench", "api#", "worker#", "postgres", "total"].map(cores).join(" / "),
        fixed(p.walBytesPerJob, 0),
      ]);
    }
  }
  return alignColumns(rows);
}

function ratioTable(r: Record<string, number>): string {
  return alignColumns([
    ["jq / pg-boss", "", "single", "batch", "rate"],
    ["jobs/s (above 1: jq faster)", "", `${fixed(r.singleJobsPerSecond, 2)}x`, `${fixed(r.batchJobsPerSecond, 2)}x`, "-"],
    ["start p50 / p99 (below 1: jq sooner)", "", "-", "-", `${fixed(r.rateStartP50, 2)}x / ${fixed(r.rateStartP99, 2)}x`],
    ["cpu s per 1k jobs, all processes (below 1: jq cheaper)", "", `${fixed(r.singleCpuPer1kJobs, 2)}x`, `${fixed(r.batchCpuPer1kJobs, 2)}x`, `${fixed(r.rateCpuPer1kJobs, 2)}x`],
  ]);
}

function detailLines(run: SystemRun): string {
  const c = run.databasePerJob;
  const lines: string[] = [
    `${run.system}, whole run (warm-up included), per job in its database: ${fixed(c.transactions, 2)} transactions, ` +
      `${fixed(c.rowsInserted, 2)} rows inserted, ${fixed(c.rowsUpdated, 2)} updated, ${fixed(c.rowsDeleted, 2)} deleted`,
  ];
  for (const key of PHASES) {
    const p = run[key];
    const byClient = Object.entries(p.postgresCpuPer1kJobsByClient)
      .filter(([client]) => client !== "total")
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([client, v]) => `${client} ${fixed(v, 3)}`)
      .join(", ");
    const share = (items: readonly { what: string; connections: number }[]) => items.map((i) => `${fixed(i.connections, 2)} ${i.what}`).join("; ");
    const a = p.activity;
    lines.push(`${run.system} ${key}:`);
    lines.push(`  postgres cpu s/1k jobs by client: ${byClient}`);
    const waiting = Object.entries(p.waitingForCpu)
      .filter(([label]) => label !== "total")
      .map(([label, v]) => `${label} ${fixed(v, 2)} (${fixed(p.busyCores[label], 2)})`)
      .join(", ");
    lines.push(`  ready but waiting for a cpu, s per s (and busy cores): ${waiting}`);
    lines.push(`  postgres per job: ${fixed(p.writeTransactionsPerJob, 2)} writing transactions, ${fixed(p.walBytesPerJob, 0)} WAL bytes`);
    lines.push(`  pg conns run/lock/idle: ${fixed(a.running, 1)} / ${fixed(a.waitingForLock, 1)} / ${fixed(a.idle, 1)}; active waits: ${share(a.waits) || "-"}`);
    lines.push(`  active statements: ${share(a.statements.slice(0, 4)) || "-"}`);
    lines.push(`  bench event loop delay beyond 10 ms p99/mean: ${fixed(p.benchEventLoop.p99Ms, 1)}/${fixed(p.benchEventLoop.meanMs, 1)} ms`);
    for (const server of p.servers) {
      lines.push(
        `  ${server.label}: event loop delay beyond 10 ms p99/max/mean ${fixed(server.eventLoopP99Ms, 1)}/${fixed(server.eventLoopMaxMs, 1)}/${fixed(server.eventLoopMeanMs, 1)} ms; ` +
          `SubmitJob inside apps/api p50/p99 ${fixed(server.submitJobP50Ms, 1)}/${fixed(server.submitJobP99Ms, 1)} ms`,
      );
    }
    for (const st of p.statements ?? []) {
      lines.push(
        `  statement ${fixed(st.msPerJob, 3)} ms/job, ${fixed(st.callsPerJob, 3)} calls/job, ${fixed(st.meanMs, 2)} ms/call, ` +
          `${fixed(st.rowsPerCall, 1)} rows/call: ${st.statement}`,
      );
    }
    if (p.offered !== undefined) {
      lines.push(
        `  offered ${fixed(p.offered.target, 0)}/s, achieved ${fixed(p.offered.achieved, 0)}/s, at most ${p.offered.maxInFlight} submits in flight` +
          (p.offered.overloaded ? "; OVERLOADED: the latencies measure a growing backlog, not the system at this rate" : ""),
      );
    }
  }
  return lines.join("\n");
}

function verdict(run: SystemRun): string {
  const v = run.verification;
  const loops = run.workerCounts.map((c) => `${fixed(c.eventLoopP99Ms, 1)}/${fixed(c.eventLoopMaxMs, 0)}/${fixed(c.eventLoopMeanMs, 1)}`).join(", ");
  const facts =
    `${v.stored} jobs stored, ${v.completed} completed, ${v.retried} retried, ${v.handlerStarts} handler starts for ${v.attempts} attempts; ` +
    `worker event loop delay beyond 10 ms p99/max/mean ms ${loops}`;
  if (isVerified(run)) return `${run.system} verified: every one of ${v.submitted} submitted jobs completed exactly once (${facts})`;
  return `${run.system} NOT VERIFIED: ${v.problem ?? `${run.failedCalls} calls failed`} (${facts})`;
}

/** Rounds every number in a JSON value to 4 significant digits, so the line stays short. */
function roundedForJson(_key: string, value: unknown): unknown {
  if (typeof value !== "number" || Number.isInteger(value)) return value;
  return Number.isFinite(value) ? Number(value.toPrecision(4)) : null;
}

function phaseForJson(p: E2ePhaseResult): Record<string, unknown> {
  const { system: _system, name: _name, firstError: _firstError, ...figures } = p;
  return figures;
}

export function formatE2eReport(run: E2eRun): string {
  const { options: o } = run;
  const pgBossSettings = `work() batchSize ${o.pgBoss.batchSize} x localConcurrency ${o.pgBoss.localConcurrency}, poll ${o.pgBoss.pollingIntervalSeconds} s, notify ${o.pgBoss.notify ? "on" : "off"}`;
  const header =
    `e2e ${run.startedAt.toISOString()}  ${run.cpus} cpus, load ${run.loadAverage1m.before.toFixed(2)} -> ${run.loadAverage1m.after.toFixed(2)}  ` +
    `jq: ${o.apis} api x pool ${o.poolMax}, ${o.workers} workers x concurrency ${o.concurrency}; pg-boss: ${o.workers} workers x ${pgBossSettings}; payload ${o.payloadBytes} B`;
  const jq = run.runs.find((r) => r.system === "jq");
  const pgBoss = run.runs.find((r) => r.system === "pg-boss");
  const r = jq !== undefined && pgBoss !== undefined ? ratios(jq, pgBoss) : undefined;
  const allVerified = run.runs.every(isVerified);
  const json = JSON.stringify(
    {
      bench: "e2e",
      startedAt: run.startedAt.toISOString(),
      cpus: run.cpus,
      loadAverage1m: run.loadAverage1m,
      options: o,
      systems: Object.fromEntries(
        run.runs.map((s) => [
          s.system,
          {
            phases: Object.fromEntries(PHASES.map((key) => [key, phaseForJson(s[key])])),
            verification: s.verification,
            databasePerJob: s.databasePerJob,
            workers: s.workerCounts,
            failedCalls: s.failedCalls,
          },
        ]),
      ),
      ratios: r ?? null,
      verified: allVerified,
    },
    roundedForJson,
  );
  const sections = [
    header,
    figuresTable(run.runs, o.batchSize),
    "cpu s per 1,000 jobs, by process (api#1+api#2, worker#1+worker#2, …)\n" + cpuTable(run.runs),
    ...(r === undefined ? [] : [ratioTable(r)]),
    "where the time goes\n" + run.runs.map(detailLines).join("\n"),
    run.runs.map(verdict).join("\n") + (allVerified ? "\nverified" : ""),
  ];
  return `${sections.join("\n\n")}\n${json}\n`;
}
