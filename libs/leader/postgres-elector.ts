import pg from "pg";
import type { Logger } from "../logging/logger.js";
import { publishLeaderTerm } from "./leader-terms.js";
import { leaseTiming, monotonicNow, nextRenewalDelay, type LeaseTimingOptions, type MonotonicClock } from "./lease.js";
import { LeaseElector, type HeldTerm } from "./lease-elector.js";

export interface PostgresLeaderElectorOptions extends LeaseTimingOptions {
  /** Election name: one leader per name, e.g. `scheduler`. */
  readonly name: string;
  readonly nodeId: string;
  /** A direct connection: the lock lives in one session, so no transaction-mode pooler in between. */
  readonly databaseUrl: string;
  /** Extra pg client options (TLS, …); the elector sets its own timeouts on top. */
  readonly clientOptions?: pg.ClientConfig;
  readonly now?: MonotonicClock;
  readonly log: Logger;
}

/** The advisory lock key of an election (a bigint derived from its name). */
const LOCK_KEY_SQL = "hashtextextended('jq_leader:' || $1, 0)";

/**
 * Leader election without Redis (SPEC §10): a session-level `pg_try_advisory_lock` held on a
 * connection of the elector's own. The lock lives exactly as long as that session, so losing the
 * connection is losing leadership at once, and a standby's `pg_try_advisory_lock` succeeds as
 * soon as the old session is gone. The term comes from the `jq_leader_term` sequence (never
 * below the published term + 1) and is published to `jq_leader` like the Redis elector's.
 *
 * The lease still applies: the session is given `idle_session_timeout = lease`, so a leader that
 * stops talking (paused, hung) loses its session, and the leader pings every renew interval and
 * steps down at `lastPing + lease - margin` on its own clock, like the Redis elector.
 */
export class PostgresLeaderElector extends LeaseElector {
  readonly name: string;
  private client: pg.Client | undefined;
  private readonly clientConfig: pg.ClientConfig;

  constructor(options: PostgresLeaderElectorOptions) {
    const timing = leaseTiming(options);
    super(options.name, options.nodeId, timing, options.now ?? monotonicNow, options.log);
    this.name = `leader-election(${options.name})`;
    this.clientConfig = {
      ...options.clientOptions,
      connectionString: options.databaseUrl,
      application_name: `jq-leader:${options.nodeId}`,
      connectionTimeoutMillis: Math.max(timing.renewIntervalMs, 1_000),
      // Above the publish's lock_timeout; a query that hangs longer costs the session.
      query_timeout: 2 * timing.renewIntervalMs,
      keepAlive: true,
    };
  }

  protected async open(): Promise<void> {
    // jq_leader and jq_leader_term come from migration 0002.
    await this.connect();
  }

  protected async tick(held: HeldTerm | undefined): Promise<number> {
    if (held && !this.client) {
      // A new session would not hold the lock.
      this.stepDown(held, "connection-lost");
      held = undefined;
    }
    const client = this.client ?? (await this.connect());
    return held ? this.ping(client, held) : this.acquire(client);
  }

  private async ping(client: pg.Client, held: HeldTerm): Promise<number> {
    const sentAt = this.now();
    try {
      await client.query("SELECT 1");
    } catch (err) {
      this.log.warn({ election: this.electionName, err: (err as Error).message }, "leader session failed");
      this.stepDown(held, "connection-lost");
      await this.dropConnection();
      return this.timing.renewIntervalMs;
    }
    if (!this.extend(held, sentAt)) return 0;
    return nextRenewalDelay(held.lastSentAt, this.now(), this.timing);
  }

  private async acquire(client: pg.Client): Promise<number> {
    const sentAt = this.now();
    const locked = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY_SQL}) AS locked`, [this.electionName]);
    if (!locked.rows[0]?.locked) return this.timing.renewIntervalMs;
    try {
      const next = await client.query<{ term: string }>(
        "SELECT GREATEST(nextval('jq_leader_term'), coalesce((SELECT term FROM jq_leader WHERE name = $1), 0) + 1)::text AS term",
        [this.electionName],
      );
      const term = BigInt(next.rows[0]!.term);
      const publish = await publishLeaderTerm(client, { name: this.electionName, term, nodeId: this.nodeId }, this.timing.renewIntervalMs);
      if (!publish.published) {
        // Only a newer term published concurrently (another elector kind on the same name) gets here.
        this.log.warn({ election: this.electionName, term: term.toString(), published: publish.currentTerm.toString() }, "term not newer than the published one");
        await this.unlock(client);
        return this.timing.renewIntervalMs;
      }
      const elected = this.elect(term, term.toString(), sentAt);
      if (!elected) {
        await this.unlock(client);
        return this.timing.renewIntervalMs;
      }
      return nextRenewalDelay(elected.lastSentAt, this.now(), this.timing);
    } catch (err) {
      // The lock may be held by this session with no term: let the session go with it.
      await this.dropConnection();
      throw err;
    }
  }

  private async unlock(client: pg.Client): Promise<void> {
    await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY_SQL})`, [this.electionName]);
  }

  /** Ending the session releases its advisory lock; that also covers a session that hangs. */
  protected async releaseLock(_held: HeldTerm): Promise<void> {
    await this.dropConnection();
  }

  protected async close(): Promise<void> {
    await this.dropConnection();
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(this.clientConfig);
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    try {
      await client.connect();
      const leaseSeconds = Math.max(1, Math.ceil(this.timing.leaseMs / 1000));
      // The server side of the lease: a session silent for a lease is ended (Postgres 14+), and a
      // peer that vanished is noticed by TCP keepalive within about a lease.
      await client.query(
        `SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 THEN set_config('idle_session_timeout', $1, false) END,
                set_config('tcp_keepalives_idle', $2, false),
                set_config('tcp_keepalives_interval', '1', false),
                set_config('tcp_keepalives_count', '2', false)`,
        [`${this.timing.leaseMs}ms`, String(leaseSeconds)],
      );
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      throw new Error("leader elector stopped");
    }
    this.client = client;
    return client;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.log.warn({ election: this.electionName, err: err.message }, "leader election connection lost");
    const held = this.current();
    if (held) this.stepDown(held, "connection-lost");
    void client.end().catch(() => {});
  }

  private async dropConnection(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
