import { parseArgs } from "node:util";

/** What one run of bench/submit-throughput.ts measures; parsed once from the command line. */
export interface BenchOptions {
  readonly unaryJobs: number;
  readonly unaryInFlight: number;
  readonly batchJobs: number;
  readonly batchSize: number;
  readonly batchesInFlight: number;
  readonly payloadBytes: number;
  /** Warm-up calls before each phase, as a fraction of its measured calls. */
  readonly warmupFraction: number;
  /** Postgres connections of apps/api (JQ_DATABASE_POOL_MAX) and of the baseline's pool. */
  readonly poolMax: number;
}

export const USAGE = `usage: tsx bench/submit-throughput.ts [options]   (build first: tsc -p tsconfig.json)
  --unary-jobs N          SubmitJob calls measured (default 10000)
  --unary-in-flight N     SubmitJob calls in flight (default 32)
  --batch-jobs N          jobs submitted with SubmitJobs, rounded up to whole batches (default 200000)
  --batch-size N          jobs per SubmitJobs call (default 500)
  --batches-in-flight N   SubmitJobs calls in flight (default 4)
  --payload-bytes N       payload of each job (default 100)
  --warmup F              warm-up calls before each phase, as a fraction of its calls (default 0.1)
  --pool-max N            Postgres connections of apps/api and of the baseline (default 10)
`;

const DEFAULTS = {
  "unary-jobs": "10000",
  "unary-in-flight": "32",
  "batch-jobs": "200000",
  "batch-size": "500",
  "batches-in-flight": "4",
  "payload-bytes": "100",
  warmup: "0.1",
  "pool-max": "10",
} as const;

/** A bad command line; the message names the flag. */
export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
}

function wholeNumber(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new BenchUsageError(`--${flag} must be a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

/** The options, or "help" when --help was asked for; throws with the flag's name on a bad value. */
export function parseBenchOptions(args: readonly string[]): BenchOptions | "help" {
  const flags = Object.fromEntries(Object.entries(DEFAULTS).map(([name, value]) => [name, { type: "string", default: value }])) as {
    [name in keyof typeof DEFAULTS]: { type: "string"; default: string };
  };
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: { ...flags, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  if (values.help === true) return "help";
  const warmupFraction = Number(values.warmup);
  if (!(warmupFraction >= 0 && warmupFraction <= 10)) throw new BenchUsageError(`--warmup must be a number in [0, 10], got ${values.warmup}`);
  return Object.freeze({
    unaryJobs: wholeNumber("unary-jobs", values["unary-jobs"], 1),
    unaryInFlight: wholeNumber("unary-in-flight", values["unary-in-flight"], 1),
    batchJobs: wholeNumber("batch-jobs", values["batch-jobs"], 1),
    batchSize: wholeNumber("batch-size", values["batch-size"], 1),
    batchesInFlight: wholeNumber("batches-in-flight", values["batches-in-flight"], 1),
    payloadBytes: wholeNumber("payload-bytes", values["payload-bytes"], 0),
    warmupFraction,
    poolMax: wholeNumber("pool-max", values["pool-max"], 1),
  });
}
