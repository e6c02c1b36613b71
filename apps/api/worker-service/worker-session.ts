import type { StreamJobsResponse } from "../../../libs/proto/index.js";
import { ONE_PER_MESSAGE, type AssignmentBatching } from "./assignment-messages.js";

/**
 * A worker's open job stream on this replica, and what the dispatcher knows about it: the
 * deliveries it holds (job id → attempt) and whether it may take more.
 */
export class WorkerSession {
  readonly held = new Map<string, number>();
  /** Deliveries claimed for this stream whose writes (and RUNNING marks) are still under way. */
  readonly delivering = new Map<string, number>();
  /** Slots promised to jobs of a submit still being committed (Dispatcher.offer). */
  reserved = 0;
  /** Slots the claim under way may fill. */
  claiming = 0;
  draining: boolean;
  private drainTold = false;
  filling = false;
  private closedWith: Error | null | undefined;
  private readonly closeWaiters: ((err: Error | null) => void)[] = [];

  constructor(
    readonly workerId: string,
    readonly queues: readonly string[],
    readonly concurrency: number,
    draining: boolean,
    private readonly sendMessage: (msg: StreamJobsResponse) => Promise<void>,
    /** What the stream asked for: several assignments per message, or one. */
    readonly batching: AssignmentBatching = ONE_PER_MESSAGE,
  ) {
    this.draining = draining;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** The stream no longer holds this attempt of the job; false when it did not hold it. */
  letGo(jobId: string, attempt: number): boolean {
    if (this.held.get(jobId) !== attempt) return false;
    this.held.delete(jobId);
    return true;
  }

  get freeSlots(): number {
    return this.draining || this.closed ? 0 : Math.max(0, this.concurrency - this.held.size - this.reserved - this.claiming);
  }

  /**
   * The worker is draining: no more jobs for it, and it is told once, however many ways this
   * replica hears of it (the row read at the stream's start, the attach, a drain notification).
   */
  async drain(message: string): Promise<void> {
    const told = this.drainTold;
    this.draining = true;
    this.drainTold = true;
    if (!told) await this.write({ kind: { $case: "drain", value: { message } } });
  }

  /** Writes a message; false when the stream is closed or the write failed. */
  async write(msg: StreamJobsResponse): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.sendMessage(msg);
      return true;
    } catch {
      return false;
    }
  }

  /** Ends the session: the stream handler then ends the call (with `err` as its status, if any). */
  close(err: Error | null = null): void {
    if (this.closed) return;
    this.closedWith = err;
    for (const w of this.closeWaiters.splice(0)) w(err);
  }

  /** Resolves when the session closes, with the error the stream should end with (null: OK). */
  whenClosed(): Promise<Error | null> {
    if (this.closedWith !== undefined) return Promise.resolve(this.closedWith);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }
}

/** The sessions this replica holds, by worker and by queue. */
export class SessionRegistry {
  private readonly byWorker = new Map<string, WorkerSession>();
  private readonly byQueue = new Map<string, Set<WorkerSession>>();

  /** Adds a session; returns the one it replaces (a worker has one stream). */
  add(session: WorkerSession): WorkerSession | undefined {
    const previous = this.byWorker.get(session.workerId);
    if (previous) this.remove(previous);
    this.byWorker.set(session.workerId, session);
    for (const q of session.queues) {
      let set = this.byQueue.get(q);
      if (!set) this.byQueue.set(q, (set = new Set()));
      set.add(session);
    }
    return previous;
  }

  remove(session: WorkerSession): void {
    if (this.byWorker.get(session.workerId) === session) this.byWorker.delete(session.workerId);
    for (const q of session.queues) {
      const set = this.byQueue.get(q);
      set?.delete(session);
      if (set?.size === 0) this.byQueue.delete(q);
    }
  }

  get(workerId: string): WorkerSession | undefined {
    return this.byWorker.get(workerId);
  }

  ofQueue(queue: string): Iterable<WorkerSession> {
    return this.byQueue.get(queue) ?? [];
  }

  all(): WorkerSession[] {
    return [...this.byWorker.values()];
  }

  get size(): number {
    return this.byWorker.size;
  }
}
