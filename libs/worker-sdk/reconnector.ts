import * as grpc from "@grpc/grpc-js";
import type { ReconnectBackoff } from "./backoff.js";
import type { WorkerLogger } from "./options.js";

/**
 * What a lost stream calls for:
 * - `transient`: reopen both streams (UNAVAILABLE, connection loss, a server ending the stream);
 * - `suspect`: StreamJobs said FAILED_PRECONDITION or NOT_FOUND. That is both "the worker is
 *   OFFLINE/unknown" and "replaced by a newer stream", so ask Heartbeat which one it is first;
 * - `lost`: the server declared the worker lost: register again, then reopen.
 */
export type Recovery = "transient" | "suspect" | "lost";
const SEVERITY: Record<Recovery, number> = { transient: 0, suspect: 1, lost: 2 };

/** The worker's side of a reconnect. */
export interface ReconnectSteps {
  /** Cancels whatever is left of both streams. */
  closeStreams(): void;
  /** Heartbeat: true while the server has the worker, false on FAILED_PRECONDITION / NOT_FOUND. */
  sessionAlive(signal: AbortSignal): Promise<boolean>;
  /** Drops the deliveries the server handed back and registers again. */
  recoverLostSession(signal: AbortSignal): Promise<void>;
  /** Opens the streams still wanted; resolves once they are open. */
  openStreams(): Promise<void>;
  /** Both streams are open again. */
  reconnected(cause: unknown): void;
}

/** FAILED_PRECONDITION or NOT_FOUND: what Heartbeat and StreamJobs answer for an OFFLINE or unknown worker. */
export function isLostCode(error: unknown): boolean {
  const code = (error as Partial<grpc.ServiceError> | undefined)?.code;
  return code === grpc.status.FAILED_PRECONDITION || code === grpc.status.NOT_FOUND;
}

/**
 * One reconnect at a time, after a backoff delay. Requests that arrive while a reconnect is
 * waiting or running are merged into the next one (the most severe kind wins), so a burst of
 * stream errors costs one reconnect. `end()` stops it for good.
 *
 *   request(kind) ──► closeStreams, wait backoff ──► [suspect: Heartbeat] ──► [lost: register]
 *                                                      ──► openStreams ──► reconnected
 *   any step fails ──► request again (a failed open is judged like a broken stream)
 */
export class Reconnector {
  private readonly ended = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private running = false;
  private pending: Recovery | undefined;
  private cause: unknown;

  constructor(
    private readonly steps: ReconnectSteps,
    private readonly backoff: ReconnectBackoff,
    private readonly log: WorkerLogger,
  ) {}

  get isEnded(): boolean {
    return this.ended.signal.aborted;
  }

  /** The streams are open (at start): the backoff measures how long they stay up. */
  connected(): void {
    this.backoff.connected();
  }

  request(kind: Recovery, cause: unknown): void {
    if (this.isEnded) return;
    this.pending = worse(this.pending, kind);
    this.cause = cause;
    if (!this.running && this.timer === undefined) this.schedule();
  }

  /** No more reconnects; resolves when an attempt in progress has given up. */
  async end(): Promise<void> {
    this.ended.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.attempt;
  }

  private schedule(): void {
    this.steps.closeStreams();
    const delayMs = this.backoff.nextDelayMs();
    this.log.debug({ delayMs, kind: this.pending }, "reconnect scheduled");
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attempt = this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    this.running = true;
    let kind = this.pending ?? "transient";
    this.pending = undefined;
    const cause = this.cause;
    const signal = this.ended.signal;
    try {
      if (kind === "suspect") kind = (await this.steps.sessionAlive(signal)) ? "transient" : "lost";
      if (kind === "lost") await this.steps.recoverLostSession(signal);
      if (signal.aborted) return;
      kind = "transient";
      await this.steps.openStreams();
      this.backoff.connected();
      this.steps.reconnected(cause);
    } catch (error) {
      if (signal.aborted) return;
      // A failed Heartbeat or registration is tried again as it was.
      const next = kind === "transient" && isLostCode(error) ? "suspect" : kind;
      this.pending = worse(this.pending, next);
      this.cause = error;
      this.log.warn({ err: error instanceof Error ? error.message : String(error), kind: next }, "reconnect failed; trying again");
    } finally {
      this.running = false;
      if (this.pending !== undefined && !signal.aborted) this.schedule();
    }
  }
}

function worse(a: Recovery | undefined, b: Recovery): Recovery {
  return a !== undefined && SEVERITY[a] > SEVERITY[b] ? a : b;
}
