import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SYSTEM_NAMES, type SystemName } from "./system.js";

// The command line of bench/e2e.ts, parsed once.

/** A bad flag: the bench prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** What each system is given when it starts. */
export interface SystemOptions {
  /** apps/api replicas (jq). */
  readonly apis: number;
  /** Worker processes of every system. */
  readonly workers: number;
  /** Jobs a jq or BullMQ worker process runs at once. */
  readonly concurrency: number;
  readonly batchSize: number;
  readonly payloadBytes: number;
  /** Postgres connections of each apps/api and of the pg-boss producer. */
  readonly poolMax: number;
  /** Where each apps/api writes a V8 CPU profile when it exits; undefined: no profiles. */
  readonly cpuProfDir: string | undefined;
  /** Settings given to every apps/api on top of the bench's own (trying a setting, A/B). */
  readonly apiEnv: Readonly<Record<string, string>>;
}

export interface Options extends SystemOptions {
  readonly systems: readonly SystemName[];
  readonly singleJobs: number;
  readonly singleInFlight: number;
  readonly batchJobs: number;
  readonly batchesInFlight: number;
  /** Open-loop rate for every system; undefined: half of each system's own single-submit figure. */
  readonly rate: number | undefined;
  readonly rateSeconds: number;
  readonly rateLeadInSeconds: number;
  readonly warmupJobs: number;
  readonly stallSeconds: number;
  /** Wait after each phase so that every backend has published its statistics (Postgres flushes an idle one within 10 s). */
  readonly settleSeconds: number;
  /** fsync, synchronous_commit and full_page_writes off (the test bed's settings) instead of durable. */
  readonly fastPostgres: boolean;
  /** Load pg_stat_statements and report each phase's most expensive statements. */
  readonly statements: boolean;
  /** Report what each phase's WAL is made of (pg_walinspect). */
  readonly walRecords: boolean;
}

const FLAGS = {
  systems: ["jq,pg-boss,bullmq", "systems to run, in this order"],
  api: ["2", "apps/api replicas (jq)"],
  workers: ["2", "worker processes per system"],
  concurrency: ["500", "jobs each jq or BullMQ worker process runs at once (pg-boss fetches 500)"],
  "single-jobs": ["10000", "jobs of the single-submit phase"],
  "single-in-flight": ["32", "single submits in flight"],
  "batch-jobs": ["20000", "jobs of the batch phase (whole batches)"],
  "batch-size": ["500", "jobs per batch submit"],
  "batches-in-flight": ["4", "batch submits in flight"],
  rate: ["", "open-loop jobs/s for every system (default: half of its own single-submit jobs/s)"],
  "rate-seconds": ["30", "length of the open-loop phase after its lead-in (its p99 is also shown per 10 s)"],
  "rate-lead-in-seconds": ["1", "open loop at the same rate before its latencies count (every other figure counts it)"],
  "warmup-jobs": ["2000", "jobs before measuring: a quarter single, the rest batched"],
  "payload-bytes": ["100", "payload of each job"],
  "pool-max": ["10", "Postgres connections of each apps/api and of the pg-boss producer"],
  "stall-seconds": ["30", "fail a phase when no job completes for this long"],
  "settle-seconds": ["11", "wait after each phase before reading Postgres' row and commit counters"],
  "cpu-prof": ["", "directory where each jq apps/api writes a V8 CPU profile of its whole run"],
  "api-env": ["", "settings for every jq apps/api, e.g. JQ_SUBMIT_WINDOW_MS=5,JQ_RESULT_WINDOW_MS=5"],
} as const;

export const USAGE = `usage: npm run bench:e2e -- [options]   (tsx bench/e2e.ts after tsc -p tsconfig.json)
${Object.entries(FLAGS).map(([flag, [value, what]]) => `  --${flag.padEnd(18)} ${what}${value === "" ? "" : ` (default ${value})`}`).join("\n")}
  --fast-postgres      fsync, synchronous_commit and full_page_writes off (default: durable)
  --statements         where Postgres' time goes: each phase's top statements (loads pg_stat_statements)
  --wal-records        what each phase's WAL is made of: bytes per job by relation and record kind
`;

function whole(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} must be a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function settings(text: string): Record<string, string> {
  if (text === "") return {};
  return Object.fromEntries(
    text.split(",").map((pair) => {
      const match = /^(JQ_[A-Z0-9_]+)=(.*)$/.exec(pair.trim());
      if (!match) throw new UsageError(`--api-env takes JQ_NAME=value pairs separated by commas, got ${JSON.stringify(pair)}`);
      return [match[1]!, match[2]!];
    }),
  );
}

function systems(text: string): SystemName[] {
  const names = text.split(",").map((s) => s.trim());
  if (names.some((n) => !SYSTEM_NAMES.includes(n as SystemName)) || new Set(names).size !== names.length) {
    throw new UsageError(`--systems lists ${SYSTEM_NAMES.join(", ")} at most once each, got ${JSON.stringify(text)}`);
  }
  return names as SystemName[];
}

/** The options, or "help"; throws UsageError naming the flag on a bad value. */
export function parseOptions(args: readonly string[]): Options | "help" {
  const flags = Object.fromEntries(Object.entries(FLAGS).map(([name, [value]]) => [name, { type: "string" as const, default: value }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...args], options: { ...flags, "fast-postgres": { type: "boolean" }, statements: { type: "boolean" }, "wal-records": { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) return "help";
  const text = (flag: keyof typeof FLAGS): string => String(values[flag]);
  return {
    systems: systems(text("systems")),
    apis: whole("api", text("api"), 1),
    workers: whole("workers", text("workers"), 1),
    concurrency: whole("concurrency", text("concurrency"), 1),
    singleJobs: whole("single-jobs", text("single-jobs"), 1),
    singleInFlight: whole("single-in-flight", text("single-in-flight"), 1),
    batchJobs: whole("batch-jobs", text("batch-jobs"), 1),
    batchSize: whole("batch-size", text("batch-size"), 1),
    batchesInFlight: whole("batches-in-flight", text("batches-in-flight"), 1),
    rate: text("rate") === "" ? undefined : whole("rate", text("rate"), 1),
    rateSeconds: whole("rate-seconds", text("rate-seconds"), 1),
    rateLeadInSeconds: whole("rate-lead-in-seconds", text("rate-lead-in-seconds"), 0),
    warmupJobs: whole("warmup-jobs", text("warmup-jobs"), 0),
    payloadBytes: whole("payload-bytes", text("payload-bytes"), 0),
    poolMax: whole("pool-max", text("pool-max"), 1),
    stallSeconds: whole("stall-seconds", text("stall-seconds"), 1),
    settleSeconds: whole("settle-seconds", text("settle-seconds"), 0),
    fastPostgres: values["fast-postgres"] === true,
    statements: values.statements === true,
    walRecords: values["wal-records"] === true,
    cpuProfDir: text("cpu-prof") === "" ? undefined : resolve(text("cpu-prof")),
    apiEnv: settings(text("api-env")),
  };
}
