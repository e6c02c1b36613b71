import { JqClient } from "../../libs/client/index.js";
import { findFreePort } from "../../test/bed/free-port.js";
import { waitUntil } from "../../test/bed/wait-until.js";
import { startApp } from "../../test/support/app-process.js";

// One real apps/api process (node dist/apps/api/main.js) as an operator would run it. At
// JQ_LOG_LEVEL=warn it logs neither its ports nor "ready" (both are info lines), so it gets
// fixed free ports and readiness is its /readyz answering 200.

export interface BenchApiOptions {
  readonly databaseUrl: string;
  readonly poolMax: number;
  readonly maxBatchSize: number;
  /** JQ_NODE_ID; default: the app's own (hostname-pid). */
  readonly nodeId?: string;
  /** NODE_OPTIONS of the process, e.g. `--cpu-prof` to see where its CPU goes. */
  readonly nodeOptions?: string;
}

export interface BenchApi {
  readonly pid: number;
  /** gRPC `host:port`, for clients of the bench's own (e.g. workers). */
  readonly address: string;
  /** Port of /healthz, /readyz and /metrics. */
  readonly httpPort: number;
  /** A client without retries, so a failed call counts as failed. */
  readonly client: JqClient;
  /** Closes the client and stops the process; safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILLs the process, for when there is no time to stop it. */
  killNow(): void;
}

export async function startBenchApi(options: BenchApiOptions): Promise<BenchApi> {
  const [grpcPort, httpPort] = [await findFreePort(), await findFreePort()];
  const app = startApp("api", {
    JQ_DATABASE_URL: options.databaseUrl,
    JQ_DATABASE_POOL_MAX: String(options.poolMax),
    JQ_MAX_BATCH_SIZE: String(options.maxBatchSize),
    JQ_GRPC_PORT: String(grpcPort),
    JQ_API_HTTP_PORT: String(httpPort),
    JQ_LOG_LEVEL: "warn",
    ...(options.nodeId === undefined ? {} : { JQ_NODE_ID: options.nodeId }),
    ...(options.nodeOptions === undefined ? {} : { NODE_OPTIONS: options.nodeOptions }),
  });
  let exitCode: number | string | undefined;
  void app.exited().then((code) => (exitCode = code));
  const address = `127.0.0.1:${grpcPort}`;
  const client = new JqClient({ address, maxAttempts: 1 });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      client.close();
      await app.stop();
    })());
  try {
    await waitUntil(
      async () => {
        const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
        if (response.status !== 200) throw new Error(`/readyz answered ${response.status}`);
      },
      {
        what: "apps/api",
        timeoutMs: 30_000,
        gaveUp: () => (exitCode === undefined ? undefined : `exited (${exitCode}); stderr: ${app.stderr()}`),
      },
    );
    if (app.child.pid === undefined) throw new Error("apps/api has no pid");
    return { pid: app.child.pid, address, httpPort, client, stop, killNow: () => app.child.kill("SIGKILL") };
  } catch (error) {
    await stop();
    throw error;
  }
}
