import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../logging/logger.js";
import { backoffDelayMs } from "../backoff/index.js";
import { FailureStreak, RELAY_BACKOFF } from "./relay-failures.js";

describe("relay backoff", () => {
  it("doubles from 100 ms after the first failed round and stops at 5 s", () => {
    // The relay asks with the failed rounds before this one (0 after the first).
    expect([1, 2, 3, 4, 5, 6, 7, 1_000].map((n) => backoffDelayMs(n - 1, RELAY_BACKOFF))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });
});

describe("FailureStreak", () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { lines, log: createLogger({ app: "scheduler", nodeId: "test", level: "info", destination }) };
  }

  it("logs the first failure, then at most one line per interval, then the recovery", () => {
    const { lines, log } = capture();
    let now = 1_000_000;
    const streak = new FailureStreak(log, 30_000, () => now);
    for (let i = 0; i < 100; i++) {
      streak.failed("send", new Error("connect ECONNREFUSED"), 5_000);
      now += 1_000; // 100 failures over 100 s
    }
    expect(streak.consecutive).toBe(100);
    streak.succeeded();
    expect(streak.consecutive).toBe(0);
    streak.succeeded();

    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings.map((l) => l.failures)).toEqual([1, 31, 61, 91]);
    expect(warnings.map((l) => l.notLogged)).toEqual([0, 29, 29, 29]);
    expect(warnings[0]).toMatchObject({ step: "send", err: "connect ECONNREFUSED", retryInMs: 5_000, failingForMs: 0 });
    expect(warnings[3]).toMatchObject({ failingForMs: 90_000 });
    expect(lines.filter((l) => l.level === "info")).toEqual([expect.objectContaining({ msg: "outbox relay recovered", failures: 100, failedForMs: 100_000 })]);
  });

  it("logs the first failure of a streak at once, even within an interval of the clock's start", () => {
    const { lines, log } = capture();
    const streak = new FailureStreak(log, 30_000, () => 5);
    streak.failed("read", new Error("connection refused"), 100);
    streak.failed("read", new Error("connection refused"), 200);
    expect(lines.map((l) => [l.level, l.failures, l.step])).toEqual([["warn", 1, "read"]]);
  });
});
