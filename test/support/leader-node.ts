// A leader elector in a process of its own, so a test can SIGKILL or SIGSTOP a real leader.
// Run by test/support/leader-process.ts from dist/ (node dist/test/support/leader-node.js <spec>);
// not a test file. Prints one JSON line per event on stdout, `at` being this process's wall clock:
// `started`, `elected`, `demoted`, and `acted` every 10 ms while `fence()` says it leads (a
// stand-in for a duty, so a test can see whether a woken process acted as leader).
import pg from "pg";
import { PostgresLeaderElector, RedisLeaderElector, type LeaderElector } from "../../libs/leader/index.js";
import { createLogger } from "../../libs/logging/logger.js";

export interface LeaderNodeSpec {
  readonly kind: "redis" | "postgres";
  readonly name: string;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly databaseUrl: string;
  readonly redisUrl?: string;
  readonly keyPrefix?: string;
}

function print(line: Record<string, unknown>, at = Date.now()): void {
  process.stdout.write(`${JSON.stringify({ ...line, at })}\n`);
}

async function main(spec: LeaderNodeSpec): Promise<void> {
  const log = createLogger({ app: "leader-node", nodeId: spec.nodeId, level: "warn", destination: process.stderr });
  const pool = spec.kind === "redis" ? new pg.Pool({ connectionString: spec.databaseUrl, max: 2 }) : undefined;
  pool?.on("error", () => {});
  const common = { name: spec.name, nodeId: spec.nodeId, leaseMs: spec.leaseMs, log };
  const elector: LeaderElector =
    spec.kind === "redis"
      ? new RedisLeaderElector({ ...common, redisUrl: spec.redisUrl!, keyPrefix: spec.keyPrefix, pool: pool! })
      : new PostgresLeaderElector({ ...common, databaseUrl: spec.databaseUrl });
  elector.onElected((term) => print({ event: "elected", term: term.toString() }));
  elector.onDemoted(({ term, reason }) => print({ event: "demoted", term: term.toString(), reason }));
  await elector.start();
  print({ event: "started" });
  const duty = setInterval(() => {
    // Stamped when it decided, before asking: a SIGSTOP may land between the check and the print,
    // and a line printed after the wake-up must still say when the node acted (the check itself
    // looks at the clock, so a node woken past its lease is refused there).
    const at = Date.now();
    const fence = elector.fence();
    if (fence) print({ event: "acted", term: fence.term.toString() }, at);
  }, 10);
  process.once("SIGTERM", () => {
    clearInterval(duty);
    void elector
      .stop()
      .then(() => pool?.end())
      .then(() => process.exit(0));
  });
}

await main(JSON.parse(process.argv[2] ?? "{}") as LeaderNodeSpec);
