/**
 * `npm start`: the whole cluster under pm2 (ecosystem.config.js: api in cluster mode, two
 * schedulers, health). With nothing configured it runs on an embedded Postgres (data in
 * `<data dir>/postgres`), elects the scheduler leader through the Postgres fallback and keeps
 * events in the outbox (SPEC §10). With JQ_DATABASE_URL, JQ_REDIS_URL and JQ_KAFKA_BROKERS set, it
 * uses those.
 *
 * The data directory is QUICK_START_DATA_DIR, by default `.data` in this checkout; pm2's home is
 * under it (scripts/quick-start/pm2-home.ts), so two checkouts never share a pm2 daemon.
 *
 * Ctrl-C or SIGTERM: the apps stop first (they still reach Postgres, so each removes its presence
 * row), then the embedded Postgres; then "jq: stopped". pm2 (with the apps) and Postgres run in
 * sessions of their own, so a terminal's Ctrl-C reaches only this launcher, which stops them in
 * that order: SIGINT to pm2-runtime, which stops each app within its kill_timeout and exits.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { EmbeddedPostgres } from "./quick-start/embedded-postgres.js";
import { pm2Home } from "./quick-start/pm2-home.js";

// The repository root, whether this runs from scripts/ or, compiled, from dist/scripts/.
const root = (() => {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "ecosystem.config.js"))) return dir;
  }
  throw new Error("cannot find ecosystem.config.js above " + import.meta.dirname);
})();
const env: NodeJS.ProcessEnv = { ...process.env };
const say = (line: string) => process.stdout.write(`jq: ${line}\n`);

const dataDir = resolve(root, env.QUICK_START_DATA_DIR ?? ".data");
mkdirSync(dataDir, { recursive: true, mode: 0o755 });
env.PM2_HOME = pm2Home(dataDir, env);

let stopping = false;
let embedded: EmbeddedPostgres | undefined;
let pm2: ReturnType<typeof spawn> | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say("stopping");
    if (pm2) pm2.kill("SIGINT");
    else void embedded?.stop().then(() => (say("stopped"), process.exit(0)));
  });
}

if (!env.JQ_DATABASE_URL) {
  const port = Number(env.EMBEDDED_POSTGRES_PORT ?? 54329);
  embedded = new EmbeddedPostgres({ dir: join(dataDir, "postgres"), port, logFile: join(dataDir, "postgres.log"), say });
  env.JQ_DATABASE_URL = await embedded.start();
  say(`embedded Postgres on 127.0.0.1:${new URL(env.JQ_DATABASE_URL).port} (set JQ_DATABASE_URL to use your own)`);
}
if (!env.JQ_REDIS_URL) say("no JQ_REDIS_URL: scheduler leader election uses a Postgres advisory lock");
if (!env.JQ_KAFKA_BROKERS) say("no JQ_KAFKA_BROKERS: job events stay in the outbox until Kafka is configured");

const grpc = `127.0.0.1:${env.JQ_GRPC_PORT ?? 50051}`;
const instances = Number(env.PM2_API_INSTANCES ?? 2);
const apiHttp = Number(env.JQ_API_HTTP_PORT ?? 8100);
say(`gRPC API:  ${grpc}   (reflection on: grpcurl -plaintext ${grpc} list)`);
say(`dashboard: http://127.0.0.1:${env.JQ_HEALTH_HTTP_PORT ?? 8082}/`);
say(`metrics:   api replicas on ${Array.from({ length: instances }, (_, i) => apiHttp + i).join(", ")}; schedulers ${env.JQ_SCHEDULER_HTTP_PORT ?? 8081}, ${env.SCHEDULER_2_HTTP_PORT ?? 8091}; health ${env.JQ_HEALTH_HTTP_PORT ?? 8082}`);
say(`pm2 home:  ${env.PM2_HOME}`);
say(`try:       grpcurl -plaintext -d '{"name":"emails"}' ${grpc} jq.v1.AdminService/CreateQueue`);

if (!stopping) {
  const runtime = spawn(join(root, "node_modules", ".bin", "pm2-runtime"), ["start", "ecosystem.config.js"], {
    cwd: root,
    env,
    stdio: "inherit",
    detached: true,
  });
  pm2 = runtime;
  const code = await new Promise<number>((done) => runtime.once("exit", (c, s) => done(c ?? (s ? 0 : 1))));
  await embedded?.stop();
  say("stopped");
  process.exit(stopping ? 0 : code);
}
