// pm2 process file (SPEC §10): the API in cluster mode, two schedulers (one leads, one stands by)
// and one health process. Every JQ_* variable of the environment `pm2 start` runs in reaches each
// app; the per-app env below only sets what differs between them. Knobs of this file itself are
// not JQ_* names: every JQ_* variable reaches the apps, which refuse settings they do not know.
const instances = process.env.PM2_API_INSTANCES ?? "2";
// Each api replica serves /metrics, /healthz and /readyz on a port of its own, so Prometheus can
// scrape every replica (under cluster mode a shared port would answer from whichever replica the
// connection lands on). pm2's increment_var gives replica i the port JQ_API_HTTP_PORT + i; the
// default base here is 8100, clear of the schedulers' 8081/8091 and health's 8082. The gRPC port
// stays shared: that is what cluster mode is for.
const apiHttpBase = process.env.JQ_API_HTTP_PORT ?? "8100";

const ecosystem = {
  apps: [
    {
      name: "jq-api",
      script: "dist/apps/api/main.js",
      exec_mode: "cluster",
      instances: Number(instances),
      increment_var: "JQ_API_HTTP_PORT",
      kill_timeout: 20000,
      env: { NODE_ENV: "production", JQ_API_HTTP_PORT: apiHttpBase },
    },
    {
      name: "jq-scheduler-1",
      script: "dist/apps/scheduler/main.js",
      kill_timeout: 20000,
      env: { NODE_ENV: "production", JQ_NODE_ID: "scheduler-1" },
    },
    {
      name: "jq-scheduler-2",
      script: "dist/apps/scheduler/main.js",
      kill_timeout: 20000,
      env: { NODE_ENV: "production", JQ_NODE_ID: "scheduler-2", JQ_SCHEDULER_HTTP_PORT: process.env.SCHEDULER_2_HTTP_PORT ?? "8091" },
    },
    {
      name: "jq-health",
      script: "dist/apps/health/main.js",
      kill_timeout: 20000,
      env: { NODE_ENV: "production" },
    },
  ],
};

// package.json says "type": "module" and pm2 loads this file with require(): on Node >= 22.12,
// require() of an ES module returns the export named "module.exports".
export default ecosystem;
export { ecosystem as "module.exports" };
