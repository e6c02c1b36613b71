import type pg from "pg";
import { finishAttempts, type FinishRequest, type FinishVerdict } from "../../../libs/attempts/index.js";
import { Coalescer } from "../../../libs/batching/coalescer.js";
import { DependencyUnavailable } from "../../../libs/errors/index.js";
import type { Logger } from "../../../libs/logging/logger.js";
import { isConnectionError } from "../../../libs/postgres/db.js";
import type { DeliveryRef } from "../../../libs/workers/index.js";

/**
 * Collects results from every stream and unary call of this replica and records them in one
 * transaction per batch (SPEC §5: "many results arriving at once are written in one transaction").
 * A batch starts `windowMs` (JQ_RESULT_WINDOW_MS) after the previous batch is written and a result
 * waits: under light load a few results, under heavy load everything that arrived meanwhile. A
 * batch that fails for a reason other than a lost database is written again result by result, so one
 * result Postgres refuses fails its own caller only.
 *
 * The queue is bounded (MAX_QUEUED results, MAX_QUEUED_BYTES of results and messages): past it a
 * result is refused with UNAVAILABLE, which ends a ReportResults stream so the worker resends
 * what is unacknowledged after a backoff, here or on another replica. Nothing acknowledged is lost.
 */
const MAX_QUEUED = 20_000;
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

/** What a result costs to keep in memory until it is written. */
function resultBytes(r: FinishRequest): number {
  return 200 + (r.outcome.kind === "success" ? r.outcome.result.byteLength : Buffer.byteLength(r.outcome.message));
}

export class ResultBatcher {
  private readonly batches: Coalescer<FinishRequest, FinishVerdict>;
  /** Results queued or being written, by worker: the heartbeat reconciliation leaves them alone. */
  private readonly inFlight = new Map<string, Map<string, { ref: DeliveryRef; count: number }>>();

  constructor(
    pool: pg.Pool,
    log: Logger,
    onRecorded: (requests: readonly FinishRequest[], verdicts: readonly FinishVerdict[]) => void,
    windowMs: number,
    maxBatch = 1000,
  ) {
    this.batches = new Coalescer(
      async (requests) => {
        try {
          const verdicts = await finishAttempts(pool, requests);
          onRecorded(requests, verdicts);
          return verdicts;
        } catch (err) {
          log.warn({ err: (err as Error).message, results: requests.length }, "recording results failed");
          throw err;
        }
      },
      {
        maxBatch,
        windowMs,
        isolates: (err) => !isConnectionError(err),
        maxQueued: MAX_QUEUED,
        maxQueuedSize: MAX_QUEUED_BYTES,
        size: resultBytes,
        full: () => new DependencyUnavailable("this API replica's result queue (full); resend later"),
      },
    );
  }

  record(request: FinishRequest): Promise<FinishVerdict> {
    const worker = request.workerId;
    if (worker === null) return this.batches.add(request);
    const key = `${request.jobId}/${request.attempt}`;
    const mine = this.inFlight.get(worker) ?? new Map<string, { ref: DeliveryRef; count: number }>();
    this.inFlight.set(worker, mine);
    const entry = mine.get(key) ?? { ref: { jobId: request.jobId, attempt: request.attempt }, count: 0 };
    mine.set(key, entry);
    entry.count++;
    return this.batches.add(request).finally(() => {
      if (--entry.count === 0) mine.delete(key);
      if (mine.size === 0 && this.inFlight.get(worker) === mine) this.inFlight.delete(worker);
    });
  }

  /** The deliveries of `workerId` whose results are queued here or being written. */
  inFlightOf(workerId: string): DeliveryRef[] {
    return [...(this.inFlight.get(workerId)?.values() ?? [])].map((e) => e.ref);
  }

  /** Resolves when everything queued so far is written. */
  drain(): Promise<void> {
    return this.batches.drain();
  }
}
