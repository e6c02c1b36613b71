import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ResultAckCode } from "../proto/index.js";
import { MAX_ASSIGNMENTS_PER_MESSAGE } from "./job-stream.js";
import { gatedHandler, scriptedWorkerSuite, singles, waitUntil } from "./scripted-server.test-support.js";

// Several assignments, results and acks per message, against an in-process scripted WorkerService
// that announces batching (or, like an older server, does not).

const suite = scriptedWorkerSuite(5);
const startWorker = suite.startWorker;

const messages = () => suite.server.of("result").map((c) => c.request);
const sentResults = () => messages().flatMap(singles);

/** Runs `ids` (all at once) and lets them finish in the same event-loop turn. */
async function finishTogether(g: ReturnType<typeof gatedHandler>, ids: string[]): Promise<void> {
  for (const id of ids) suite.server.assign(id);
  await waitUntil(() => ids.every((id) => g.started(id)), "every job runs");
  for (const id of ids) g.release(id, `done ${id}`);
}

function announceBatches(maxResultsPerMessage = "100", maxMessageBytes = String(4 * 1024 * 1024)): void {
  suite.server.batchHeaders = { maxResultsPerMessage, maxMessageBytes };
}

describe("Worker batching", () => {
  it("asks for several assignments per message and runs each job of an `assignments` message", async () => {
    const ran: string[] = [];
    const w = await startWorker(async (job) => void ran.push(job.id));
    expect(suite.server.of("streamJobs")[0]?.request.maxAssignmentsPerMessage).toBe(MAX_ASSIGNMENTS_PER_MESSAGE);
    suite.server.assignBatch(["b-1", "b-2", "b-3"]);
    await waitUntil(() => w.stats.succeeded === 3, "all three results are acknowledged");
    expect(ran).toEqual(["b-1", "b-2", "b-3"]);
    expect(w.stats).toMatchObject({ received: 3, held: 0, unacked: 0 });
  });

  it("sends results that finish in one turn in one message to a server that announces batches", async () => {
    announceBatches();
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    await finishTogether(g, ["r-1", "r-2", "r-3", "r-4"]);
    await waitUntil(() => w.stats.succeeded === 4, "the batched acks are handled");

    expect(messages()).toHaveLength(1);
    const [message] = messages();
    expect(message).toMatchObject({ sequence: "0", result: undefined });
    expect(message?.results.map((r) => r.result?.jobId)).toEqual(["r-1", "r-2", "r-3", "r-4"]);
    expect(new Set(message?.results.map((r) => r.sequence)).size).toBe(4);
    expect(w.stats).toMatchObject({ held: 0, unacked: 0 });
    await w.close(); // the book is empty: the flush does not wait
    suite.worker = undefined;
    expect(suite.server.calls.at(-1)?.rpc).toBe("deregister");
  });

  it("sends each result alone to a server that does not announce batches", async () => {
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    await finishTogether(g, ["o-1", "o-2", "o-3"]);
    await waitUntil(() => w.stats.succeeded === 3, "every result is acknowledged");
    expect(messages().map((m) => [m.sequence, m.result?.jobId, m.results])).toEqual([
      ["1", "o-1", []],
      ["2", "o-2", []],
      ["3", "o-3", []],
    ]);
  });

  it("keeps to the announced number of results per message", async () => {
    announceBatches("2");
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    await finishTogether(g, ["c-1", "c-2", "c-3", "c-4", "c-5"]);
    await waitUntil(() => w.stats.succeeded === 5, "every result is acknowledged");
    expect(messages().map((m) => m.results.map((r) => r.result?.jobId))).toEqual([["c-1", "c-2"], ["c-3", "c-4"], ["c-5"]]);
  });

  it("hands a refused result of a batch its own code", async () => {
    announceBatches();
    suite.server.onResult = (r) => (r.result?.jobId === "s-2" ? ResultAckCode.STALE : ResultAckCode.ACCEPTED);
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    await finishTogether(g, ["s-1", "s-2", "s-3"]);
    await waitUntil(() => w.stats.unacked === 0 && w.stats.received === 3 && w.stats.held === 0, "every result is acknowledged");
    expect(messages()).toHaveLength(1);
    expect(w.stats).toMatchObject({ succeeded: 2, stale: 1 });
  });

  it("resends a batch's unacknowledged results on the next stream after it breaks", async () => {
    announceBatches();
    suite.server.onResult = () => undefined; // hold every ack
    const g = gatedHandler();
    const w = await startWorker(g.handler);
    await finishTogether(g, ["k-1", "k-2", "k-3"]);
    await waitUntil(() => messages().length === 1, "the batch is sent");
    expect(messages()[0]?.results).toHaveLength(3);
    expect(w.stats.unacked).toBe(3);

    suite.server.onResult = () => ResultAckCode.ACCEPTED;
    suite.server.endResultStream(grpc.status.UNAVAILABLE, "server shutting down");
    await waitUntil(() => w.stats.succeeded === 3, "the resent results are acknowledged");
    // The resend goes before the new stream's headers are known: one result per message.
    expect(messages().slice(1).map((m) => [m.sequence, m.result?.jobId, m.results.length])).toEqual([
      ["1", "k-1", 0],
      ["2", "k-2", 0],
      ["3", "k-3", 0],
    ]);
    expect(sentResults().map((r) => r.result?.jobId)).toEqual(["k-1", "k-2", "k-3", "k-1", "k-2", "k-3"]);
    expect(w.stats).toMatchObject({ reconnects: 1, unacked: 0 });

    // Later results on the new stream are batched again.
    await finishTogether(g, ["k-4", "k-5"]);
    await waitUntil(() => w.stats.succeeded === 5, "the new results are acknowledged");
    expect(messages().at(-1)?.results.map((r) => r.result?.jobId)).toEqual(["k-4", "k-5"]);
  });
});
