import { parseArgs } from "node:util";
import { BenchUsageError } from "./bench-options.js";
import type { PgBossWorkSettings } from "./e2e-protocol.js";
import type { SystemName } from "./e2e-system.js";

/** What one run of bench/e2e.ts measures; parsed once from the command line. */
export interface E2eOptions {
  /** Systems to run, in this order. */
  readonly systems: readonly SystemName[];
  /** apps/api processes (jq). */
  readonly apis: number;
  /** Worker processes, for each system. */
  readonly workers: number;
  /** Jobs a jq worker runs at once. */
  readonly concurrency: number;
  /** Jobs of the single-submit phase, the same for every system. */
  readonly singleJobs: number;
  readonly singleInFlight: number;
  /** Jobs of the batch phase, the same for every system (pg-boss' fetch slows as its backlog grows). */
  readonly batchJobs: number;
  readonly batchSize: number;
  readonly batchesInFlight: number;
  /** Open-loop rate; undefined: half of the system's own figure named by rateBasis. */
  readonly rate: number | undefined;
  /** Which measured figure the default rate is half of: batch (2), single (1), or the lower of both. */
  readonly rateBasis: "batch" | "single" | "lower";
  readonly rateSeconds: number;
  readonly warmupJobs: number;
  readonly payloadBytes: number;
  /** Postgres connections of each apps/api (JQ_DATABASE_POOL_MAX) and of the pg-boss producer. */
  readonly poolMax: number;
  readonly pgBoss: PgBossWorkSettings;
  /** Give up a phase when no job starts for this long. */
  readonly stallSeconds: number;
  /** Restart the bench's Postgres with pg_stat_statements and report each phase's top statements. */
  readonly statementStats: boolean;
  /** NODE_OPTIONS for the apps/api processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
  readonly apiNodeOptions: string | undefined;
}

export const E2E_USAGE = `usage: tsx bench/e2e.ts [options]   (build first: tsc -p tsconfig.json)
  --systems LIST              systems to run, in order (default jq,pg-boss)
  --api N                     apps/api processes for jq (default 1)
  --workers N                 worker processes per system (default 2)
  --concurrency N             jobs each jq worker runs at once (default 32)
  --single-jobs N             jobs of the single-submit phase, for every system (default 3000)
  --single-in-flight N        single submits in flight (default 32)
  --batch-jobs N              jobs of the batch phase, for every system, rounded up to whole batches (default 12000)
  --batch-size N              jobs per SubmitJobs / insert call (default 500)
  --batches-in-flight N       batch calls in flight (default 4)
  --rate N                    jobs/s of the latency phase, for every system (default: see --rate-basis)
  --rate-basis B              the latency phase runs at half of the system's own jobs/s with
                              batch submits (batch), single submits (single) or the lower of the two
                              (lower, default: single submits must be able to carry the rate)
  --rate-seconds N            length of the latency phase (default 10)
  --warmup-jobs N             jobs run before measuring, a quarter single, the rest batched (default 2000)
  --payload-bytes N           payload of each job (default 100)
  --pool-max N                Postgres connections of each apps/api and of the pg-boss producer (default 10)
  --pg-boss-batch-size N      pg-boss work() batchSize (default 32)
  --pg-boss-local-concurrency N
                              pg-boss work() localConcurrency (default 1)
  --pg-boss-polling-seconds S pg-boss pollingIntervalSeconds, at least 0.5 (default 0.5)
  --pg-boss-notify BOOL       useListenNotify + queue notify: workers woken by NOTIFY (default true)
  --stall-seconds N           fail a phase when no job starts for this long (default 30)
  --pg-stat-statements        load pg_stat_statements (one Postgres restart) and list each phase's
                              costliest statements; adds a little to every statement (default off)
  --api-node-options=TEXT     NODE_OPTIONS for apps/api, e.g. --api-node-options="--cpu-prof --cpu-prof-dir=/tmp/prof"
`;

const DEFAULTS = {
  systems: "jq,pg-boss",
  api: "1",
  workers: "2",
  concurrency: "32",
  "single-jobs": "3000",
  "single-in-flight": "32",
  "batch-jobs": "12000",
  "batch-size": "500",
  "batches-in-flight": "4",
  rate: "",
  "rate-basis": "lower",
  "rate-seconds": "10",
  "warmup-jobs": "2000",
  "payload-bytes": "100",
  "pool-max": "10",
  "pg-boss-batch-size": "32",
  "pg-boss-local-concurrency": "1",
  "pg-boss-polling-seconds": "0.5",
  "pg-boss-notify": "true",
  "stall-seconds": "30",
  "api-node-options": "",
} as const;

function wholeNumber(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new BenchUsageError(`--${flag} must be a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function positiveNumber(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new BenchUsageError(`--${flag} must be a number >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function systemsList(text: string): SystemName[] {
  const names = text.split(",").map((s) => s.trim());
  const bad = names.find((n) => n !== "jq" && n !== "pg-boss");
  if (bad !== undefined || names.length === 0 || new Set(names).size !== names.length) {
    throw new BenchUsageError(`--systems must list jq and/or pg-boss once each, got ${JSON.stringify(text)}`);
  }
  return names as SystemName[];
}

function rateBasis(text: string): E2eOptions["rateBasis"] {
  if (text === "batch" || text === "single" || text === "lower") return text;
  throw new BenchUsageError(`--rate-basis must be batch, single or lower, got ${JSON.stringify(text)}`);
}

function bool(flag: string, text: string): boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  throw new BenchUsageError(`--${flag} must be true or false, got ${JSON.stringify(text)}`);
}

/** The options, or "help" when --help was asked for; throws with the flag's name on a bad value. */
export function parseE2eOptions(args: readonly string[]): E2eOptions | "help" {
  const flags = Object.fromEntries(Object.entries(DEFAULTS).map(([name, value]) => [name, { type: "string", default: value }])) as {
    [name in keyof typeof DEFAULTS]: { type: "string"; default: string };
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { ...flags, "pg-stat-statements": { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  if (values.help === true) return "help";
  return Object.freeze({
    systems: systemsList(values.systems),
    apis: wholeNumber("api", values.api, 1),
    workers: wholeNumber("workers", values.workers, 1),
    concurrency: wholeNumber("concurrency", values.concurrency, 1),
    singleJobs: wholeNumber("single-jobs", values["single-jobs"], 1),
    singleInFlight: wholeNumber("single-in-flight", values["single-in-flight"], 1),
    batchJobs: wholeNumber("batch-jobs", values["batch-jobs"], 1),
    batchSize: wholeNumber("batch-size", values["batch-size"], 1),
    batchesInFlight: wholeNumber("batches-in-flight", values["batches-in-flight"], 1),
    rate: values.rate === "" ? undefined : positiveNumber("rate", values.rate, 1),
    rateBasis: rateBasis(values["rate-basis"]),
    rateSeconds: positiveNumber("rate-seconds", values["rate-seconds"], 1),
    warmupJobs: wholeNumber("warmup-jobs", values["warmup-jobs"], 0),
    payloadBytes: wholeNumber("payload-bytes", values["payload-bytes"], 0),
    poolMax: wholeNumber("pool-max", values["pool-max"], 1),
    pgBoss: Object.freeze({
      batchSize: wholeNumber("pg-boss-batch-size", values["pg-boss-batch-size"], 1),
      localConcurrency: wholeNumber("pg-boss-local-concurrency", values["pg-boss-local-concurrency"], 1),
      pollingIntervalSeconds: positiveNumber("pg-boss-polling-seconds", values["pg-boss-polling-seconds"], 0.5),
      notify: bool("pg-boss-notify", values["pg-boss-notify"]),
    }),
    stallSeconds: positiveNumber("stall-seconds", values["stall-seconds"], 1),
    statementStats: values["pg-stat-statements"] === true,
    apiNodeOptions: values["api-node-options"] === "" ? undefined : values["api-node-options"],
  });
}
