import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import { namedStatement } from "../postgres/named-statement.js";
import { JOBS_AVAILABLE_CHANNEL } from "./channels.js";

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
 */
export class QueueWaker {
  private pending = new Set<string>();
  private sending: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    /** Wakes this replica's own dispatcher without a round trip through Postgres. */
    private readonly wakeLocal: (queue: string) => void = () => {},
  ) {}

  wake(queues: Iterable<string>): void {
    const local: string[] = [];
    for (const q of queues) {
      this.pending.add(q);
      local.push(q);
    }
    // After the current call has answered: a submit's reply does not wait for local dispatch.
    if (local.length > 0) setImmediate(() => local.forEach((q) => this.wakeLocal(q)));
    this.kick();
  }

  /** Resolves once every wake-up asked for so far was sent. */
  async flush(): Promise<void> {
    while (this.sending || this.pending.size > 0) {
      this.kick();
      await this.sending;
    }
  }

  private kick(): void {
    if (this.sending || this.pending.size === 0) return;
    const queues = [...this.pending];
    this.pending = new Set();
    this.sending = this.pool
      .query(WAKE([JOBS_AVAILABLE_CHANNEL, queues]))
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

/** $1 channel, $2 queues. One NOTIFY per queue, committed without waiting for the WAL flush. */
const WAKE = namedStatement(`
  WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
  SELECT pg_notify($1, q) FROM async, unnest($2::text[]) AS q`);
