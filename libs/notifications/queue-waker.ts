import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import { namedStatement } from "../postgres/named-statement.js";
import { JOBS_AVAILABLE_CHANNEL, jobsAvailablePayload } from "./channels.js";

/**
 * Tells every API replica that jobs became claimable in some queues (SPEC §5), coalesced.
 *
 * Postgres serialises the commits of all transactions that NOTIFY behind one cluster-wide lock,
 * so a NOTIFY inside every submit would make submits commit one at a time. Instead the submit
 * commits without it and the queue is handed to this waker, which sends one `pg_notify` per queue
 * in a single small statement, with at most one such statement in flight: idle, a wake-up goes
 * out at once; under load, all queues named while a statement ran share the next one. A lost
 * wake-up (process killed between commit and notify) is covered by the dispatchers' sweep.
 *
 * The statement is its own transaction, and a NOTIFY gives it a transaction id, so with durable
 * settings its commit would wait for a WAL flush before the listeners hear it: one more disk flush
 * between a submit and its claim. Nothing in it needs to survive a crash (a lost wake-up is what the
 * sweep is for), so it commits asynchronously (`synchronous_commit = off` for this transaction only).
 *
 * In apps/api the replica's own streams come first: the waker fills them, and only a queue they
 * did not drain is announced to the others. Otherwise every replica holding a stream of the queue
 * raced for the same jobs and all but one claim came back empty (in bench:e2e, half of all claims).
 * Its own NOTIFY carries the replica's origin, so its listener does not wake it a second time.
 */
export class QueueWaker {
  private pending = new Set<string>();
  private sending: Promise<void> | undefined;
  private readonly local = new Set<Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    /** This replica's own dispatcher, woken first and without a round trip through Postgres. */
    private readonly dispatch?: LocalDispatch,
  ) {}

  wake(queues: Iterable<string>): void {
    const names = [...queues];
    if (names.length === 0) return;
    if (this.dispatch === undefined) {
      for (const q of names) this.pending.add(q);
      return this.kick();
    }
    // After the current call has answered: a submit's reply does not wait for local dispatch.
    const dispatch = this.dispatch;
    const run = (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const drained = await Promise.all(names.map((q) => dispatch.wake(q).catch(() => false)));
      names.forEach((q, i) => {
        if (!drained[i]) this.pending.add(q);
      });
      this.kick();
    })().finally(() => this.local.delete(run));
    this.local.add(run);
  }

  /** Resolves once every wake-up asked for so far was sent. */
  async flush(): Promise<void> {
    while (this.local.size > 0 || this.sending || this.pending.size > 0) {
      await Promise.all([...this.local]);
      this.kick();
      await this.sending;
    }
  }

  private kick(): void {
    if (this.sending || this.pending.size === 0) return;
    const queues = [...this.pending];
    this.pending = new Set();
    this.sending = this.pool
      .query(WAKE([JOBS_AVAILABLE_CHANNEL, queues.map((q) => jobsAvailablePayload(q, this.dispatch?.origin))]))
      .then(
        () => undefined,
        (err: unknown) => this.log.warn({ err: (err as Error).message, queues }, "could not send wake-ups; the dispatch sweep covers them"),
      )
      .finally(() => {
        this.sending = undefined;
        this.kick();
      });
  }
}

/** What a QueueWaker needs of its replica's dispatcher. */
export interface LocalDispatch {
  /**
   * Fills this replica's streams that take `queue`; resolves true when they found it drained,
   * so that no other replica need be told. False (or a rejection) sends the NOTIFY.
   */
  wake(queue: string): Promise<boolean>;
  /** Marks this replica's NOTIFYs so that its own listener skips them (see jobsAvailablePayload). */
  readonly origin: string;
}

/** $1 channel, $2 payloads. One NOTIFY per queue, committed without waiting for the WAL flush. */
const WAKE = namedStatement(`
  WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
  SELECT pg_notify($1, p) FROM async, unnest($2::text[]) AS p`);
