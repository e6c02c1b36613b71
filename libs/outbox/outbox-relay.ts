import { setTimeout as delay } from "node:timers/promises";
import type { KafkaConfig } from "kafkajs";
import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import type { Component } from "../runtime/index.js";
import { KafkaLink, type OutboxKafkaSettings } from "./kafka-link.js";
import { chunkBySize, toOutboxMessage, type OutboxMessage } from "./kafka-records.js";
import { advanceRelayCursor, measureOutboxLag, readEventsAfter, readRelayCursor, type LogPosition, type OutboxLag } from "./outbox-store.js";
import { backoffDelayMs, type BackoffPolicy } from "../backoff/index.js";
import { FailureStreak, RELAY_BACKOFF, type RelayStep } from "./relay-failures.js";

/** Callbacks for the owner's metrics; the relay registers nothing itself. */
export interface OutboxRelayHooks {
  /** `events` records were acknowledged by Kafka (the cursor moves past them next). */
  onRelayed?(events: number): void;
  /** A round failed at `step`; the cursor stays and the relay retries after a backoff. */
  onFailure?(step: RelayStep, error: Error): void;
}

export interface OutboxRelayOptions {
  readonly pool: pg.Pool;
  readonly kafka: OutboxKafkaSettings;
  readonly log: Logger;
  /** Events read (and produced) per round. Default 500. */
  readonly batchSize?: number;
  /** Wait after a round that found less than a full batch. Default 200 ms. */
  readonly pollMs?: number;
  /** Largest produce request; a bigger batch is sent as several, in order. Default 512 KiB. */
  readonly maxSendBytes?: number;
  /** Backoff after failed rounds. Default 100 ms doubling to 5 s. */
  readonly backoff?: BackoffPolicy;
  /** Consecutive failed sends after which the producer is replaced by a new one. Default 5. */
  readonly recreateProducerAfter?: number;
  /** How long `stop()` lets a send in flight finish before disconnecting under it. Default 5 s. */
  readonly stopTimeoutMs?: number;
  /** At most one failure log line per this interval while failures go on. Default 30 s. */
  readonly failureLogIntervalMs?: number;
  readonly hooks?: OutboxRelayHooks;
  /** The clock `lag()` measures against. */
  readonly now?: () => Date;
  /** Extra kafkajs client settings (ssl, sasl, timeouts); brokers and client id come from `kafka`. */
  readonly kafkaClient?: Partial<KafkaConfig>;
}

interface RelayRun {
  readonly abort: AbortController;
  readonly link: KafkaLink;
  readonly finished: Promise<void>;
}

/**
 * Relays the event log to Kafka (SPEC §6; design in docs/outbox.md and docs/write-path.md).
 * Rounds:
 *
 *   read ≤ batchSize events past the cursor, below the transaction horizon, in (xid, id) order
 *     → produce them (key job id, value JobEvent, header type; idempotent, acks=all), in order,
 *       one produce request at a time
 *     → move the durable cursor past exactly what Kafka acknowledged
 *     → full batch: next round at once; otherwise wait pollMs
 *
 * A failed round keeps its batch (an unsent batch is retried as it is, so the idempotent producer
 * can recognise a resend) and backs off; the cursor never passes what Kafka did not acknowledge.
 *
 * Only the scheduler leader runs it: `start()` when elected, `stop()` when demoted or shutting
 * down. Both are idempotent and may alternate any number of times; `start()` does not wait for
 * Kafka, which may be down: the relay then keeps retrying while the outbox grows.
 */
export class OutboxRelay implements Component {
  readonly name = "outbox-relay";
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly maxSendBytes: number;
  private readonly backoff: BackoffPolicy;
  private readonly recreateProducerAfter: number;
  private readonly stopTimeoutMs: number;
  private readonly failureLogIntervalMs: number;
  private readonly now: () => Date;
  private run: RelayRun | undefined;
  private transitions: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = positive("batchSize", options.batchSize ?? 500);
    this.pollMs = positive("pollMs", options.pollMs ?? 200);
    this.maxSendBytes = positive("maxSendBytes", options.maxSendBytes ?? 512 * 1024);
    this.backoff = options.backoff ?? RELAY_BACKOFF;
    positive("backoff.baseMs", this.backoff.baseMs);
    positive("backoff.maxMs", this.backoff.maxMs);
    this.recreateProducerAfter = positive("recreateProducerAfter", options.recreateProducerAfter ?? 5);
    this.stopTimeoutMs = positive("stopTimeoutMs", options.stopTimeoutMs ?? 5_000);
    this.failureLogIntervalMs = positive("failureLogIntervalMs", options.failureLogIntervalMs ?? 30_000);
    this.now = options.now ?? (() => new Date());
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.run !== undefined;
  }

  /** Starts relaying; a no-op while already running. Resolves at once, without waiting for Kafka. */
  start(): Promise<void> {
    return this.serially(async () => {
      if (this.run !== undefined) return;
      const abort = new AbortController();
      const link = new KafkaLink(this.options.kafka, this.options.log, this.options.kafkaClient);
      this.run = { abort, link, finished: this.relayUntil(abort.signal, link) };
      this.options.log.info({ topic: this.options.kafka.topic, batchSize: this.batchSize }, "outbox relay started");
    });
  }

  /**
   * Stops relaying: the batch in flight is finished (its send given up to `stopTimeoutMs`, then
   * the producer is disconnected under it and its rows stay for the next leader), then the Kafka
   * clients are closed. Safe to call twice and before `start()`.
   */
  stop(): Promise<void> {
    return this.serially(async () => {
      const run = this.run;
      if (run === undefined) return;
      this.run = undefined;
      run.abort.abort();
      const deadline = new AbortController();
      const inTime = await Promise.race([
        run.finished.then(() => true),
        delay(this.stopTimeoutMs, false, { signal: deadline.signal }).catch(() => true),
      ]);
      deadline.abort();
      if (!inTime) {
        this.options.log.warn({ timeoutMs: this.stopTimeoutMs }, "outbox relay: send still in flight at stop; disconnecting under it");
        await run.link.close();
        await run.finished;
      }
      // Again after the loop ended: a send kafkajs was still retrying may have reconnected.
      await run.link.close();
      this.options.log.info("outbox relay stopped");
    });
  }

  /** Rows waiting in the outbox and the age of the oldest, for the scheduler's metrics. */
  lag(): Promise<OutboxLag> {
    return measureOutboxLag(this.options.pool, this.now());
  }

  private serially(change: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(change);
    this.transitions = next.catch(() => {});
    return next;
  }

  /** The relay loop of one start/stop cycle; never rejects. */
  private async relayUntil(signal: AbortSignal, link: KafkaLink): Promise<void> {
    const { pool, hooks } = this.options;
    const streak = new FailureStreak(this.options.log, this.failureLogIntervalMs);
    // Produce requests of the batch in hand not yet acknowledged, in order; kept across failures
    // so a retry resends the same records (same sequence numbers for the idempotent producer).
    let unsent: OutboxMessage[][] = [];
    // Where the relay is: the durable cursor, then what Kafka acknowledged since.
    let cursor: LogPosition | undefined;
    // Acknowledged by Kafka, not yet saved as the durable cursor (the save failed).
    let unsaved: LogPosition | undefined;
    let batchWasFull = false;
    let failedSends = 0;

    while (!signal.aborted) {
      let step: RelayStep = "read";
      try {
        cursor ??= await readRelayCursor(pool);
        if (unsaved !== undefined) {
          step = "advance";
          await advanceRelayCursor(pool, unsaved);
          unsaved = undefined;
        }
        if (unsent.length === 0) {
          step = "read";
          const rows = await readEventsAfter(pool, cursor, this.batchSize);
          if (rows.length === 0) {
            streak.succeeded();
            await sleep(this.pollMs, signal);
            continue;
          }
          if (signal.aborted) break;
          unsent = chunkBySize(rows.map(toOutboxMessage), this.maxSendBytes);
          batchWasFull = rows.length === this.batchSize;
        }
        // Once started, a batch is finished even if stop() was called meanwhile.
        while (unsent.length > 0) {
          const request = unsent[0]!;
          step = "send";
          await link.send(request.map((m) => m.message));
          unsent.shift();
          cursor = request[request.length - 1]!.position;
          unsaved = cursor;
          failedSends = 0;
          callHook(() => hooks?.onRelayed?.(request.length));
          step = "advance";
          await advanceRelayCursor(pool, unsaved);
          unsaved = undefined;
        }
        streak.succeeded();
        if (!batchWasFull) await sleep(this.pollMs, signal);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        const retryInMs = backoffDelayMs(streak.consecutive, this.backoff);
        streak.failed(step, error, retryInMs);
        callHook(() => hooks?.onFailure?.(step, error));
        if (step === "send" && ++failedSends % this.recreateProducerAfter === 0) {
          // kafkajs reconnects by itself, but a producer can also be wedged (fenced, or out of
          // sequence after a broker lost its state): a new one starts clean.
          this.options.log.warn({ failedSends }, "outbox relay: replacing the Kafka producer after repeated failed sends");
          await link.reset();
        }
        await sleep(retryInMs, signal);
      }
    }
    if (unsaved !== undefined) {
      // Acknowledged but the cursor was not saved: one last try, else the next leader sends them again.
      await advanceRelayCursor(pool, unsaved).catch(() => {});
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`outbox relay: ${name} must be a positive number (got ${value})`);
  return value;
}

/** Runs a metrics hook; a hook that throws must not make a relayed batch look failed. */
function callHook(hook: () => void): void {
  try {
    hook();
  } catch {
    // The owner's bug; the relay goes on.
  }
}

/** Waits `ms`, or less if `signal` aborts. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => {});
}
