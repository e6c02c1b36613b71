import pg from "pg";
import { withTransaction } from "../postgres/db.js";
import { JqError } from "../errors/index.js";
import type { FenceToken } from "./leader-elector.js";

/**
 * The Postgres side of fencing. Every elector publishes each new term to `jq_leader` before it
 * calls itself leader; a duty's transaction checks its term against that row, under a share lock
 * held to commit, so a transaction of an old term either commits before the next term is
 * published (and so before the next leader does anything) or refuses to write. See
 * docs/leader-election.md.
 *
 * The table and the sequence come from migration 0002_leader_terms.sql.
 */

/** A write of an old (or unpublished) term was refused. */
export class StaleLeader extends JqError {
  readonly kind = "failed_precondition";
  constructor(
    readonly fence: FenceToken,
    /** The published term, when Postgres was asked. */
    readonly currentTerm: bigint | undefined,
    why = currentTerm === undefined ? "which was never published" : `but the published term is ${currentTerm}`,
  ) {
    super(`leader ${fence.nodeId} of ${JSON.stringify(fence.name)} acts in term ${fence.term}, ${why}`);
    this.name = "StaleLeader";
  }
}

export interface PublishResult {
  /** The row now names this node in this term. */
  readonly published: boolean;
  /** The term in the row afterwards. */
  readonly currentTerm: bigint;
}

/**
 * Makes `fence` the published term of its election if it is newer than the published one.
 * Waits (at most `lockTimeoutMs`) for fenced transactions of the old term to finish: they hold
 * the row in share mode. `client` must not be inside a transaction.
 */
export async function publishLeaderTerm(client: pg.ClientBase, fence: FenceToken, lockTimeoutMs: number): Promise<PublishResult> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT set_config('lock_timeout', $1, true)", [`${lockTimeoutMs}ms`]);
    const { rows } = await client.query<{ term: string; node_id: string }>(
      `INSERT INTO jq_leader AS l (name, term, node_id, elected_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (name) DO UPDATE SET term = EXCLUDED.term, node_id = EXCLUDED.node_id, elected_at = EXCLUDED.elected_at
       WHERE l.term < EXCLUDED.term
       RETURNING l.term, l.node_id`,
      [fence.name, fence.term.toString(), fence.nodeId],
    );
    // No row returned: the conflicting row (now locked by this transaction) holds a term at least as new.
    const row = rows[0] ?? (await readPublishedTerm(client, fence.name));
    await client.query("COMMIT");
    if (!row) throw new Error(`jq_leader row ${fence.name} vanished while publishing`);
    const currentTerm = BigInt(row.term);
    return { published: currentTerm === fence.term && row.node_id === fence.nodeId, currentTerm };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

async function readPublishedTerm(db: pg.ClientBase, name: string): Promise<{ term: string; node_id: string } | undefined> {
  const { rows } = await db.query<{ term: string; node_id: string }>("SELECT term, node_id FROM jq_leader WHERE name = $1", [name]);
  return rows[0];
}

/** The published term of an election (for tests and operators), if any. */
export async function publishedLeaderTerm(db: pg.Pool | pg.ClientBase, name: string): Promise<FenceToken | undefined> {
  const { rows } = await db.query<{ term: string; node_id: string }>("SELECT term, node_id FROM jq_leader WHERE name = $1", [name]);
  const row = rows[0];
  return row && { name, term: BigInt(row.term), nodeId: row.node_id };
}

/**
 * Inside the caller's transaction, before its writes: throws StaleLeader unless `fence` is the
 * published term, and otherwise holds the `jq_leader` row in share mode until the transaction
 * ends, so no newer term can be published before this transaction commits. Outside a transaction
 * the lock ends with the statement and the check proves nothing: use `withFencedTransaction`.
 */
export async function assertTermCurrent(client: pg.ClientBase, fence: FenceToken): Promise<void> {
  const { rows } = await client.query<{ term: string; node_id: string }>("SELECT term, node_id FROM jq_leader WHERE name = $1 FOR SHARE", [
    fence.name,
  ]);
  const row = rows[0];
  const currentTerm = row === undefined ? undefined : BigInt(row.term);
  if (currentTerm !== fence.term || row?.node_id !== fence.nodeId) throw new StaleLeader(fence, currentTerm);
}

export interface FencedTransactionOptions {
  /**
   * `idle_in_transaction_session_timeout` for this transaction: a leader paused mid-transaction
   * holds the share lock and so delays the next term's publication; Postgres ends its session
   * after this long. Default 10 s; 0 leaves the server's setting.
   */
  readonly idleTimeoutMs?: number;
}

/**
 * Runs `fn` in one transaction that first checks the fence (assertTermCurrent). When the fence
 * carries `stillLeader` and it says no, StaleLeader is thrown before touching Postgres.
 */
export async function withFencedTransaction<T>(
  pool: pg.Pool,
  fence: FenceToken & { stillLeader?: () => boolean },
  fn: (client: pg.PoolClient) => Promise<T>,
  options: FencedTransactionOptions = {},
): Promise<T> {
  if (fence.stillLeader && !fence.stillLeader()) throw new StaleLeader(fence, undefined, "which ended on this node");
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  return withTransaction(pool, async (client) => {
    if (idleTimeoutMs > 0) {
      await client.query("SELECT set_config('idle_in_transaction_session_timeout', $1, true)", [`${idleTimeoutMs}ms`]);
    }
    await assertTermCurrent(client, fence);
    return fn(client);
  });
}
