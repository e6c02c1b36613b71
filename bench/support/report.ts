import type { Options } from "./options.js";
import { P99_WINDOW_MS, type PhaseResult } from "./phase.js";
import type { TableWrites } from "./postgres.js";
import type { SystemName, Verification } from "./system.js";

// The bench's output: one table (a row per system and phase), the ratios of jq to the others, each
// system's verification, then one JSON line with every figure.

export interface SystemRun {
  readonly system: SystemName;
  readonly durable: boolean;
  readonly single: PhaseResult;
  readonly batch: PhaseResult;
  readonly rate: PhaseResult;
  readonly verification: Verification;
  readonly failedCalls: number;
  /** Whole run, warm-ups included, per table of its database; empty for BullMQ. */
  readonly tableWrites: readonly TableWrites[];
}

export interface Run {
  readonly startedAt: Date;
  readonly seconds: number;
  readonly cpus: number;
  readonly load: readonly [number, number];
  readonly postgresSettings: Readonly<Record<string, string>>;
  readonly options: Options;
  readonly runs: readonly SystemRun[];
}

export const isVerified = (run: SystemRun): boolean => run.verification.problem === undefined && run.failedCalls === 0;

const LABELS = { jq: "jq", "pg-boss": "pg-boss", bullmq: "BullMQ (not durable)" } as const;
const num = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value) ? "n/a" : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function phaseName(result: PhaseResult, options: Options): string {
  const { plan } = result;
  if (plan.kind === "single") return `single, ${plan.inFlight} in flight`;
  if (plan.kind === "batch") return `batches of ${options.batchSize}, ${plan.inFlight} in flight`;
  return `open loop ${plan.ratePerSecond}/s`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")).join("\n");
}

function ratios(runs: readonly SystemRun[]): string[] {
  const jq = runs.find((r) => r.system === "jq");
  if (jq === undefined) return [];
  return runs
    .filter((r) => r.system !== "jq")
    .map((other) => {
      const x = (a: number | null | undefined, b: number | null | undefined): string => (a == null || b == null ? "n/a" : `${num(a / b, 2)}x`);
      return (
        `jq / ${LABELS[other.system]}: jobs/s single ${x(jq.single.jobsPerSecond, other.single.jobsPerSecond)}, batch ${x(jq.batch.jobsPerSecond, other.batch.jobsPerSecond)}` +
        ` (above 1: jq faster); start p99 ${x(jq.rate.startP99Ms, other.rate.startP99Ms)} (below 1: jq sooner);` +
        ` per job, single | batch: cpu ${x(jq.single.perJob.cpuMs, other.single.perJob.cpuMs)} | ${x(jq.batch.perJob.cpuMs, other.batch.perJob.cpuMs)},` +
        ` pg cpu ${x(jq.single.perJob.postgresCpuMs, other.single.perJob.postgresCpuMs)} | ${x(jq.batch.perJob.postgresCpuMs, other.batch.perJob.postgresCpuMs)},` +
        ` WAL ${x(jq.single.perJob.walBytes, other.single.perJob.walBytes)} | ${x(jq.batch.perJob.walBytes, other.batch.perJob.walBytes)} (below 1: jq cheaper)`
      );
    });
}

/** Rounds every number to 4 significant digits for the JSON line. */
const rounded = (_key: string, value: unknown): unknown => (typeof value === "number" && Number.isFinite(value) ? Number(value.toPrecision(4)) : value);

export function formatReport(run: Run): string {
  const s = run.postgresSettings;
  const head =
    `e2e ${run.startedAt.toISOString()}  ${run.seconds.toFixed(0)} s, ${run.cpus} cpus, load ${num(run.load[0], 2)} -> ${num(run.load[1], 2)}\n` +
    `postgres: fsync ${s.fsync}, synchronous_commit ${s.synchronous_commit}, full_page_writes ${s.full_page_writes}, shared_buffers ${s.shared_buffers}; ` +
    `jq: ${run.options.apis} api x pool ${run.options.poolMax}; ${run.options.workers} worker processes per system, concurrency ${run.options.concurrency} (jq, BullMQ); payload ${run.options.payloadBytes} B\n`;
  const rows: string[][] = [["system", "phase", "jobs", "jobs/s", "start p50/p99 ms", "cpu ms/job", "pg cpu ms/job", "WAL B/job", "rows/job", "commits/job"]];
  for (const r of run.runs) {
    for (const p of [r.single, r.batch, r.rate]) {
      const start = p.startP50Ms === undefined ? "-" : `${num(p.startP50Ms, 1)} / ${num(p.startP99Ms, 1)}`;
      const j = p.perJob;
      rows.push([LABELS[r.system], phaseName(p, run.options), num(p.jobs), num(p.jobsPerSecond), start, num(j.cpuMs, 2), num(j.postgresCpuMs, 2), num(j.walBytes), num(j.rows, 2), num(j.commits, 3)]);
    }
  }
  const where = run.runs.flatMap((r) =>
    [r.single, r.batch, r.rate].map((p) => `${LABELS[r.system]}, ${p.plan.kind}: cpu ms/job ${Object.entries(p.cpuMsByProcess).map(([label, ms]) => `${label} ${num(ms, 3)}`).join(", ")}`),
  );
  const windows = run.runs
    .filter((r) => (r.rate.startP99ByWindowMs?.length ?? 0) > 1)
    .map((r) => `${LABELS[r.system]}, open loop: start p99 of each ${P99_WINDOW_MS / 1000} s, ms: ${r.rate.startP99ByWindowMs!.map((ms) => num(ms, 1)).join(", ")}`);
  const writes = run.runs
    .filter((r) => r.tableWrites.length > 0)
    .map((r) => {
      const per = (n: number): string => num(n / r.verification.submitted, 2);
      const tables = r.tableWrites.filter((t) => t.inserted + t.updated + t.deleted >= 0.005 * r.verification.submitted).map((t) => `${t.table} ${per(t.inserted)} ins, ${per(t.updated)} upd (${num((100 * t.hotUpdated) / Math.max(t.updated, 1))} % HOT), ${per(t.deleted)} del`);
      return `${LABELS[r.system]}, whole run, rows per job: ${tables.join("; ")}`;
    });
  const statements = run.runs.flatMap((r) =>
    [r.single, r.batch, r.rate].flatMap((p) =>
      p.statements === undefined
        ? []
        : [
            `${LABELS[r.system]}, ${p.plan.kind}: Postgres' top statements, per job: exec µs, plan µs, calls; rows per call`,
            ...p.statements.map((st) => `  ${num((st.execMs * 1000) / p.jobs, 1).padStart(7)} ${num((st.planMs * 1000) / p.jobs, 1).padStart(6)} ${num(st.calls / p.jobs, 3).padStart(6)} ${num(st.rows / Math.max(st.calls, 1), 1).padStart(6)}  ${st.query}`),
          ],
    ),
  );
  const wal = run.runs.flatMap((r) =>
    [r.single, r.batch, r.rate].flatMap((p) =>
      p.walRecords === undefined
        ? []
        : [
            `${LABELS[r.system]}, ${p.plan.kind}: WAL per job by relation and record kind: bytes, of them full-page images, records`,
            ...p.walRecords.map((w) => `  ${num(w.bytes / p.jobs).padStart(6)} ${num(w.fpiBytes / p.jobs).padStart(6)} ${num(w.count / p.jobs, 2).padStart(6)}  ${w.relation} ${w.kind}`),
          ],
    ),
  );
  const verified = run.runs.map((r) => {
    const v = r.verification;
    const failed = r.failedCalls > 0 ? `; ${r.failedCalls} submit calls failed` : "";
    return `${LABELS[r.system]}: ${isVerified(r) ? "verified" : "NOT VERIFIED"}: ${v.submitted} submitted, ${v.stored} stored, ${v.completed} completed, ${v.handlerStarts} handler starts${v.problem === undefined ? "" : ` (${v.problem})`}${failed}`;
  });
  const json = JSON.stringify({ bench: "e2e", ...run, verified: run.runs.every(isVerified) }, rounded);
  return [head, table(rows), "", ...ratios(run.runs), "", ...(windows.length > 0 ? [...windows, ""] : []), "where the cpu goes:", ...where, "", ...writes, "", ...(statements.length > 0 ? [...statements, ""] : []), ...(wal.length > 0 ? [...wal, ""] : []), ...verified, json, ""].join("\n");
}
