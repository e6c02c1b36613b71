import { describe, expect, it } from "vitest";
import type { FinishVerdict } from "../attempts/index.js";
import { DependencyUnavailable, InvalidArgument, LimitExceeded } from "../errors/index.js";
import { ReplicaShuttingDown, ResultStream, type ReportedResult } from "./result-stream.js";
import type { ResultAck } from "./result-verdicts.js";

function harness() {
  const acks: ResultAck[] = [];
  const groups: ResultAck[][] = [];
  const ends: (Error | null)[] = [];
  const stream = new ResultStream({ ack: (a) => acks.push(a), acks: (g) => groups.push([...g]), end: (e) => ends.push(e) });
  return { stream, acks, groups, ends };
}

/** A result whose recording the test settles by hand. */
function manual(sequence: string, undecodable = false) {
  let settle!: { resolve(v: FinishVerdict): void; reject(e: unknown): void };
  const recorded = new Promise<FinishVerdict>((resolve, reject) => (settle = { resolve, reject }));
  const result: ReportedResult = { sequence, undecodable, record: () => recorded };
  return { result, ...settle };
}

const accepted: FinishVerdict = { code: "accepted", status: "DONE", queue: "q", workerId: "w" };
const flush = () => new Promise((r) => setImmediate(r));

describe("ResultStream", () => {
  it("acks each verdict by its sequence, in the order they are decided", async () => {
    const { stream, acks, ends } = harness();
    const one = manual("1");
    const two = manual("2");
    const three = manual("3");
    void stream.receive(one.result);
    void stream.receive(two.result);
    void stream.receive(three.result);
    two.resolve({ code: "stale", detail: "attempt 1 is not current" });
    one.resolve(accepted);
    three.resolve({ code: "not_found" });
    await flush();
    expect(acks).toEqual([
      { sequence: "2", code: "STALE", message: "attempt 1 is not current" },
      { sequence: "1", code: "ACCEPTED", message: "", jobStatus: "DONE" },
      { sequence: "3", code: "NOT_FOUND", message: "no such job" },
    ]);
    expect(ends).toEqual([]);
  });

  it("acks a refused value INVALID and goes on", async () => {
    const { stream, acks, ends } = harness();
    await stream.receive({ sequence: "4", undecodable: false, record: () => Promise.reject(new InvalidArgument("result.job_id", "is not a UUID")) });
    await stream.receive({ sequence: "5", undecodable: false, record: () => Promise.reject(new LimitExceeded("result.success.result", 10, 11, "bytes")) });
    expect(acks.map((a) => [a.sequence, a.code, a.message])).toEqual([
      ["4", "INVALID", "result.job_id: is not a UUID"],
      ["5", "INVALID", "result.success.result: 11 bytes exceeds the limit of 10 bytes"],
    ]);
    expect(ends).toEqual([]);
    expect(stream.isClosed).toBe(false);
  });

  it("ends with the error when a result cannot be recorded, and drops the acks still pending", async () => {
    const { stream, acks, ends } = harness();
    const slow = manual("1");
    void stream.receive(slow.result);
    const down = new DependencyUnavailable("postgres");
    await stream.receive({ sequence: "2", undecodable: false, record: () => Promise.reject(down) });
    slow.resolve(accepted);
    await flush();
    expect(ends).toEqual([down]);
    expect(acks).toEqual([]);
    expect(stream.isClosed).toBe(true);
  });

  it("ends with the refusal when the message did not decode (no sequence to ack)", async () => {
    const { stream, acks, ends } = harness();
    const refusal = new InvalidArgument("request", "is not a valid jq.v1.ReportResultsRequest message");
    await stream.receive({ sequence: "0", undecodable: true, record: () => Promise.reject(refusal) });
    expect(ends).toEqual([refusal]);
    expect(acks).toEqual([]);
  });

  it("ends cleanly after the client half-closes, once every received result is acked", async () => {
    const { stream, acks, ends } = harness();
    const pending = manual("1");
    void stream.receive(pending.result);
    stream.clientEnded();
    expect(ends).toEqual([]);
    pending.resolve(accepted);
    await flush();
    expect(acks).toHaveLength(1);
    expect(ends).toEqual([null]);
  });

  it("ends at once when the client half-closes with nothing pending", () => {
    const { stream, ends } = harness();
    stream.clientEnded();
    expect(ends).toEqual([null]);
  });

  it("shutdown ends it once with ReplicaShuttingDown; later events change nothing", async () => {
    const { stream, acks, ends } = harness();
    const pending = manual("1");
    void stream.receive(pending.result);
    stream.shutdown();
    stream.shutdown();
    stream.clientEnded();
    pending.resolve(accepted);
    await flush();
    expect(ends).toHaveLength(1);
    expect(ends[0]).toBeInstanceOf(ReplicaShuttingDown);
    expect(ends[0]!.message).toBe("this API replica is shutting down; reconnect");
    expect(acks).toEqual([]);
  });

  it("a cancelled stream writes nothing and is never ended", async () => {
    const { stream, acks, ends } = harness();
    const pending = manual("1");
    void stream.receive(pending.result);
    stream.cancelled();
    pending.resolve(accepted);
    stream.clientEnded();
    await flush();
    expect(acks).toEqual([]);
    expect(ends).toEqual([]);
  });

  describe("a message carrying several results", () => {
    it("decides each alone and writes their acks together once all are decided", async () => {
      const { stream, acks, groups, ends } = harness();
      const one = manual("1");
      const two = manual("2");
      const bad = { sequence: "3", undecodable: false, record: () => Promise.reject(new InvalidArgument("results[2].result.failure.message", "contains a NUL character")) };
      void stream.receiveGroup([one.result, two.result, bad]);
      two.resolve({ code: "stale", detail: "attempt 1 is not current" });
      await flush();
      expect(groups).toEqual([]);
      one.resolve(accepted);
      await flush();
      expect(groups).toEqual([
        [
          { sequence: "1", code: "ACCEPTED", message: "", jobStatus: "DONE" },
          { sequence: "2", code: "STALE", message: "attempt 1 is not current" },
          { sequence: "3", code: "INVALID", message: "results[2].result.failure.message: contains a NUL character" },
        ],
      ]);
      expect(acks).toEqual([]);
      expect(ends).toEqual([]);
    });

    it("ends the stream when one of them cannot be recorded, and acks none of them", async () => {
      const { stream, groups, ends } = harness();
      const down = new DependencyUnavailable("postgres");
      const fine = manual("1");
      void stream.receiveGroup([fine.result, { sequence: "2", undecodable: false, record: () => Promise.reject(down) }]);
      fine.resolve(accepted);
      await flush();
      expect(ends).toEqual([down]);
      expect(groups).toEqual([]);
    });

    it("counts as pending until its acks are written: a half-close waits for it", async () => {
      const { stream, groups, ends } = harness();
      const pending = manual("1");
      void stream.receiveGroup([pending.result]);
      stream.clientEnded();
      expect(ends).toEqual([]);
      pending.resolve(accepted);
      await flush();
      expect(groups).toHaveLength(1);
      expect(ends).toEqual([null]);
    });
  });
});
