import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay.js";

// The relay's constructor refuses settings that would make it spin or never send, naming the
// setting and the value; nothing connects before start(). (Surviving mutants, docs/testing.md.)

const base: OutboxRelayOptions = {
  pool: {} as OutboxRelayOptions["pool"],
  kafka: { brokers: ["127.0.0.1:1"], clientId: "t", topic: "t", topicPartitions: 1 },
  log: pino({ level: "silent" }),
};

describe("outbox relay options", () => {
  it.each([
    ["batchSize", { batchSize: 0 }, 0],
    ["pollMs", { pollMs: -1 }, -1],
    ["maxSendBytes", { maxSendBytes: Number.NaN }, Number.NaN],
    ["backoff.baseMs", { backoff: { baseMs: 0, maxMs: 10, jitter: "none" } }, 0],
    ["backoff.maxMs", { backoff: { baseMs: 10, maxMs: Number.POSITIVE_INFINITY, jitter: "none" } }, Number.POSITIVE_INFINITY],
    ["recreateProducerAfter", { recreateProducerAfter: 0 }, 0],
    ["stopTimeoutMs", { stopTimeoutMs: -5 }, -5],
    ["failureLogIntervalMs", { failureLogIntervalMs: 0 }, 0],
  ] as const)("refuses a %s that is not a positive number", (name, over, value) => {
    expect(() => new OutboxRelay({ ...base, ...over })).toThrow(new RangeError(`outbox relay: ${name} must be a positive number (got ${value})`));
  });

  it("takes positive settings and the defaults, and is not running before start()", () => {
    const relay = new OutboxRelay({ ...base, batchSize: 1, pollMs: 1, maxSendBytes: 1, backoff: { baseMs: 1, maxMs: 1, jitter: "none" }, recreateProducerAfter: 1, stopTimeoutMs: 1, failureLogIntervalMs: 1 });
    expect(relay.running).toBe(false);
    expect(relay.name).toBe("outbox-relay");
    expect(new OutboxRelay(base).running).toBe(false);
  });
});
