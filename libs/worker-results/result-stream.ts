import type { FinishVerdict } from "../attempts/index.js";
import { JqError } from "../errors/index.js";
import { ackOfVerdict, refusesOnlyItsResult, type ResultAck } from "./result-verdicts.js";

/** Where a ResultStream writes: the transport behind it (apps/api maps errors to statuses). */
export interface ResultStreamSink {
  ack(ack: ResultAck): void;
  /** The acks of a message that carried several results, written as one message. */
  acks(acks: readonly ResultAck[]): void;
  /** Ends the call, once: `null` is a clean end, an error becomes the call's status at the edge. */
  end(error: Error | null): void;
}

/** One message of the stream, parsed at the edge. */
export interface ReportedResult {
  /** The sequence to acknowledge it with ("0" when the message did not decode). */
  readonly sequence: string;
  /** The message did not decode at all: there is nothing to ack, so any error ends the stream. */
  readonly undecodable: boolean;
  /** Records the result; throws the typed error of a refusal or a failure. */
  record(): Promise<FinishVerdict>;
}

/** A replica that stops ends its result streams with this, after acking what arrived. */
export class ReplicaShuttingDown extends JqError {
  readonly kind = "unavailable";
  constructor() {
    super("this API replica is shutting down; reconnect");
    this.name = "ReplicaShuttingDown";
  }
}

/**
 * The ReportResults stream of one worker connection (SPEC §5), as a state machine:
 *
 *   open ──receive──► each result acked by its sequence (ACCEPTED / STALE / NOT_FOUND / INVALID)
 *     │ client ends ──► ends cleanly once every received result is acked
 *     │ a result fails for another reason (database down, wrong secret, undecodable) ──► ends
 *     │   with that error; acks of results still pending are dropped (the worker resends them)
 *     │ shutdown ──► ends UNAVAILABLE (ReplicaShuttingDown)
 *     └ cancelled by the client ──► closed, nothing more is written
 *
 * Results are recorded concurrently; acks go out in the order they are decided, those of a message
 * that carried several together once all of them are decided. Nothing is written after the stream
 * closes, and it ends exactly once.
 */
export class ResultStream {
  private pending = 0;
  private clientDone = false;
  private closed = false;

  constructor(private readonly sink: ResultStreamSink) {}

  get isClosed(): boolean {
    return this.closed;
  }

  async receive(result: ReportedResult): Promise<void> {
    await this.settle(async () => {
      const ack = await decide(result);
      if (!this.closed) this.sink.ack(ack);
    });
  }

  /** The results of one message that carried several: each decided alone, acked together. */
  async receiveGroup(results: readonly ReportedResult[]): Promise<void> {
    await this.settle(async () => {
      const acks = await Promise.all(results.map(decide));
      if (!this.closed) this.sink.acks(acks);
    });
  }

  /** The client half-closed: end once the results received so far are acked. */
  clientEnded(): void {
    this.clientDone = true;
    this.endIfDone();
  }

  /** The client went away: write nothing more, and do not end the call (there is no one to tell). */
  cancelled(): void {
    this.closed = true;
  }

  shutdown(): void {
    this.close(new ReplicaShuttingDown());
  }

  /** Runs the recording of one message; an error that refuses more than its result ends the stream. */
  private async settle(record: () => Promise<void>): Promise<void> {
    this.pending++;
    try {
      await record();
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.pending--;
      this.endIfDone();
    }
  }

  private endIfDone(): void {
    if (this.clientDone && this.pending === 0) this.close(null);
  }

  private close(error: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.end(error);
  }
}

/** The ack of one result; throws what ends the stream (anything but a refusal of this result alone). */
async function decide(result: ReportedResult): Promise<ResultAck> {
  try {
    return ackOfVerdict(result.sequence, await result.record());
  } catch (err) {
    if (refusesOnlyItsResult(err) && !result.undecodable) return { sequence: result.sequence, code: "INVALID", message: err.message };
    throw err;
  }
}
