import { setImmediate, clearImmediate } from "node:timers";
import type * as grpc from "@grpc/grpc-js";
import { messageChunkLimits, type ChunkLimits } from "../batching/chunks.js";
import { MAX_MESSAGE_BYTES_HEADER, MAX_RESULTS_PER_MESSAGE_HEADER, type JobResult } from "../proto/index.js";

/**
 * Several results per ReportResults message, for a server that announced it.
 *
 * The server says so in the call's response headers; until they arrive (and always with an older
 * server, which sends neither header) every result goes alone, as before batching existed:
 *
 *   jq-max-results-per-message  how many results one message may carry (≥ 2 to batch at all)
 *   jq-max-message-bytes        the largest message it accepts
 *
 * Results that finish in the same event-loop turn share a message: `OutgoingResults` holds them
 * until a `setImmediate`, then hands them over in one go to be cut by `chunkByLimits` (libs/batching/chunks.ts).
 */

/** Results per message and a budget of their estimated bytes. */
export type BatchLimits = ChunkLimits;

/** The limits a call's response headers announce; undefined means one result per message. */
export function batchLimitsFrom(headers: grpc.Metadata): BatchLimits | undefined {
  const maxResults = positiveInteger(headers.get(MAX_RESULTS_PER_MESSAGE_HEADER)[0]);
  const maxMessageBytes = positiveInteger(headers.get(MAX_MESSAGE_BYTES_HEADER)[0]);
  if (maxResults === undefined || maxResults <= 1 || maxMessageBytes === undefined) return undefined;
  return messageChunkLimits(maxResults, maxMessageBytes);
}

/**
 * An upper bound of a result's encoded size: 64 bytes for the sequence, ids, attempt and field
 * tags, plus the output, plus the failure message at 3 bytes per UTF-16 unit (UTF-8's worst case).
 */
export function estimateResultBytes(result: JobResult): number {
  const outcome = result.outcome;
  if (outcome?.$case === "success") return 64 + outcome.value.result.length;
  if (outcome?.$case === "failure") return 64 + 3 * outcome.value.message.length;
  return 64;
}

/**
 * Results waiting for the end of the current event-loop turn. `flush()` hands them over at once
 * (before a half-close); `drop()` forgets them when the call they were meant for goes away — they
 * are still in the book, and the next stream resends them.
 */
export class OutgoingResults<T> {
  private queued: T[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly write: (items: T[]) => void) {}

  add(item: T): void {
    this.queued.push(item);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  flush(): void {
    const items = this.take();
    if (items.length > 0) this.write(items);
  }

  drop(): void {
    this.take();
  }

  private take(): T[] {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const items = this.queued;
    this.queued = [];
    return items;
  }
}

function positiveInteger(value: grpc.MetadataValue | undefined): number | undefined {
  if (typeof value !== "string" || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}
