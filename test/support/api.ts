import * as grpc from "@grpc/grpc-js";
import { expect } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { startApp, type AppProcess } from "./app-process.js";

export interface RunningApi {
  readonly app: AppProcess;
  readonly address: string;
  /** A client with the given API key (or none). */
  client(apiKey?: string): JqClient;
  stop(): Promise<number | string>;
}

/** A real apps/api process on free ports against `databaseUrl`, ready to take calls. */
export async function startApi(databaseUrl: string, env: Record<string, string> = {}): Promise<RunningApi> {
  const app = startApp("api", { JQ_DATABASE_URL: databaseUrl, ...env });
  await app.ready();
  const address = `127.0.0.1:${app.grpcPort()}`;
  const clients: JqClient[] = [];
  return {
    app,
    address,
    client(apiKey?: string) {
      const c = new JqClient({ address, ...(apiKey === undefined ? {} : { apiKey }), maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      return app.stop();
    },
  };
}

/** Asserts that `promise` fails with gRPC `code` and, optionally, details matching `details`. */
export async function expectCode(promise: Promise<unknown>, code: grpc.status, details?: RegExp | string): Promise<grpc.ServiceError> {
  let error: grpc.ServiceError | undefined;
  try {
    await promise;
  } catch (err) {
    error = err as grpc.ServiceError;
  }
  expect(error, `expected ${grpc.status[code]}`).toBeDefined();
  expect(grpc.status[error!.code], error!.details).toBe(grpc.status[code]);
  if (details !== undefined) expect(error!.details).toMatch(details);
  return error!;
}
