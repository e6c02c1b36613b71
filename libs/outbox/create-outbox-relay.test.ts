import { Writable } from "node:stream";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createLogger } from "../logging/logger.js";
import { createOutboxRelay } from "./create-outbox-relay.js";
import { OutboxRelay } from "./outbox-relay.js";

const log = createLogger({ app: "scheduler", nodeId: "test", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });
// Never connected: the relay touches Postgres only once started.
const pool = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none" });

describe("createOutboxRelay", () => {
  it("creates no relay without Kafka: events stay in the outbox (SPEC §10)", () => {
    expect(createOutboxRelay({ kafka: undefined }, { pool, log })).toBeUndefined();
  });

  it("creates a stopped relay for the configured topic, on the pool it is given", async () => {
    const relay = createOutboxRelay({ kafka: { brokers: ["127.0.0.1:1"], clientId: "jq", topic: "jq.job-events", topicPartitions: 6 } }, { pool, log });
    expect(relay).toBeInstanceOf(OutboxRelay);
    expect(relay!.running).toBe(false);
    await relay!.stop(); // before start: a no-op
    // lag() reads through the given pool, whose server does not exist.
    await expect(relay!.lag()).rejects.toThrow(/ECONNREFUSED|connect/);
  });

  it("refuses a batch size or poll interval that is not positive", () => {
    const kafka = { brokers: ["127.0.0.1:1"], clientId: "jq", topic: "t", topicPartitions: 1 };
    expect(() => new OutboxRelay({ pool, log, kafka, batchSize: 0 })).toThrow(/batchSize must be a positive number/);
    expect(() => new OutboxRelay({ pool, log, kafka, pollMs: -1 })).toThrow(/pollMs/);
  });
});
