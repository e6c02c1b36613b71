import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JqClient } from "../client/client.js";
import type { JobResult } from "../proto/index.js";
import { ResultReporter, type PendingResult } from "./result-reporter.js";
import { ScriptedWorkerServer, singles, waitUntil } from "./scripted-server.test-support.js";

// The reporter alone, for the interplay of a pending batch with its call going away.

let server: ScriptedWorkerServer;
let client: JqClient;
let reporter: ResultReporter;
const acked: string[] = [];

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

beforeEach(async () => {
  server = new ScriptedWorkerServer();
  server.batchHeaders = { maxResultsPerMessage: "100", maxMessageBytes: "4194304" };
  client = new JqClient({ address: await server.start() });
  acked.length = 0;
  reporter = new ResultReporter(
    { workers: client.workers, metadata: () => new grpc.Metadata() },
    () => "worker-1",
    { onAck: (item) => acked.push(item.key), onEnd: () => undefined },
    silent,
    1_000,
  );
});

afterEach(() => {
  reporter.cancel();
  client.close();
  server.stop();
});

function pending(jobId: string): PendingResult {
  const result: JobResult = { jobId, attempt: 1, outcome: { $case: "success", value: { result: Buffer.from(jobId) } } };
  return { key: `${jobId}/1`, result };
}

const messages = () => server.of("result").map((c) => c.request);

describe("ResultReporter batching", () => {
  it("a batch pending when the stream is replaced goes out once, in the new stream's resend", async () => {
    await reporter.open();
    reporter.report(pending("a"));
    reporter.report(pending("b"));
    const reopened = reporter.open(); // before the scheduled flush runs
    await new Promise((resolve) => setImmediate(resolve)); // the flush's turn: it must write nothing
    await reopened;
    await waitUntil(() => acked.length === 2, "both results are acknowledged");
    expect(messages().map((m) => [m.sequence, m.result?.jobId, m.results.length])).toEqual([
      ["1", "a", 0],
      ["2", "b", 0],
    ]);
    expect(server.of("reportResultsOpened")).toHaveLength(2);
  });

  it("end() writes the pending batch before half-closing", async () => {
    server.onResult = () => undefined;
    await reporter.open();
    reporter.report(pending("e-1"));
    reporter.report(pending("e-2"));
    await reporter.end(1_000);
    expect(messages().flatMap(singles).map((r) => [r.sequence, r.result?.jobId])).toEqual([
      ["1", "e-1"],
      ["2", "e-2"],
    ]);
    expect(messages()).toHaveLength(1);
  });
});
