import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertTermCurrent, StaleLeader, withFencedTransaction, type FenceToken } from "../../libs/leader/index.js";
import { publishLeaderTerm } from "../../libs/leader/leader-terms.js";
import { JqError } from "../../libs/errors/index.js";
import { withTransaction } from "../../libs/postgres/db.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { uniqueTestName } from "../support/unique-name.js";

// The Postgres side of fencing (libs/leader/leader-terms.ts) on its own, without electors: what
// publishing a term answers for each row it meets, which fences a transaction refuses, and how.
describe("leader terms in Postgres", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
  });
  afterAll(async () => {
    await db.drop();
  });

  async function publish(fence: FenceToken, lockTimeoutMs = 1_000): Promise<{ published: boolean; currentTerm: bigint }> {
    const client = await db.pool.connect();
    try {
      return await publishLeaderTerm(client, fence, lockTimeoutMs);
    } finally {
      client.release();
    }
  }

  async function row(name: string): Promise<{ term: string; node_id: string } | undefined> {
    return (await db.pool.query<{ term: string; node_id: string }>("SELECT term, node_id FROM jq_leader WHERE name = $1", [name])).rows[0];
  }

  const assertIn = (fence: FenceToken): Promise<void> => withTransaction(db.pool, (client) => assertTermCurrent(client, fence));

  it("publishes only a newer term, and says which term the row holds otherwise", async () => {
    const name = uniqueTestName("election");
    expect(await publish({ name, term: 5n, nodeId: "a" })).toEqual({ published: true, currentTerm: 5n });
    // The same term for another node, or an older term of the same node: refused, row unchanged.
    expect(await publish({ name, term: 5n, nodeId: "b" })).toEqual({ published: false, currentTerm: 5n });
    expect(await publish({ name, term: 3n, nodeId: "a" })).toEqual({ published: false, currentTerm: 5n });
    expect(await publish({ name, term: 4n, nodeId: "c" })).toEqual({ published: false, currentTerm: 5n });
    expect(await row(name)).toEqual({ term: "5", node_id: "a" });
    expect(await publish({ name, term: 6n, nodeId: "b" })).toEqual({ published: true, currentTerm: 6n });
    expect(await row(name)).toEqual({ term: "6", node_id: "b" });
  });

  it("gives up after its lock timeout while a fenced transaction holds the row, and leaves the session usable", async () => {
    const name = uniqueTestName("election");
    await publish({ name, term: 1n, nodeId: "a" });
    const holder = await db.pool.connect();
    const client = await db.pool.connect();
    try {
      await holder.query("BEGIN");
      await assertTermCurrent(holder, { name, term: 1n, nodeId: "a" });
      const startedAt = performance.now();
      await expect(publishLeaderTerm(client, { name, term: 2n, nodeId: "b" }, 200)).rejects.toMatchObject({ code: "55P03" });
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(150);
      // Rolled back: the session is not left in a failed transaction.
      expect((await client.query<{ n: number }>("SELECT 1 AS n")).rows).toEqual([{ n: 1 }]);
      expect((await client.query<{ s: string }>("SELECT pg_current_xact_id_if_assigned()::text AS s")).rows).toEqual([{ s: null }]);
      await holder.query("COMMIT");
    } finally {
      holder.release();
      client.release();
    }
    expect(await row(name)).toEqual({ term: "1", node_id: "a" });
  });

  it("refuses a fence whose term was never published, as StaleLeader (failed_precondition)", async () => {
    const fence = { name: uniqueTestName("election"), term: 4n, nodeId: "a" };
    const err = await assertIn(fence).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StaleLeader);
    expect(err).toBeInstanceOf(JqError);
    expect(err).toMatchObject({ kind: "failed_precondition", name: "StaleLeader", fence, currentTerm: undefined });
    expect((err as Error).message).toBe(`leader a of ${JSON.stringify(fence.name)} acts in term 4, which was never published`);
  });

  it("refuses a fence of another term or of another node with the same term", async () => {
    const name = uniqueTestName("election");
    await publish({ name, term: 7n, nodeId: "a" });
    await assertIn({ name, term: 7n, nodeId: "a" });

    for (const fence of [
      { name, term: 6n, nodeId: "a" },
      { name, term: 8n, nodeId: "a" },
      { name, term: 7n, nodeId: "b" },
    ]) {
      const err = await assertIn(fence).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StaleLeader);
      expect(err).toMatchObject({ kind: "failed_precondition", name: "StaleLeader", currentTerm: 7n });
      expect((err as Error).message).toBe(`leader ${fence.nodeId} of ${JSON.stringify(name)} acts in term ${fence.term}, but the published term is 7`);
    }
  });

  it("refuses a fence whose stillLeader() says no before asking Postgres, even when its term is current", async () => {
    const name = uniqueTestName("election");
    await publish({ name, term: 3n, nodeId: "a" });
    let ran = false;
    const fence = { name, term: 3n, nodeId: "a", stillLeader: () => false };
    const err = await withFencedTransaction(db.pool, fence, async () => {
      ran = true;
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(StaleLeader);
    expect(err).toMatchObject({ kind: "failed_precondition", name: "StaleLeader", currentTerm: undefined });
    expect((err as Error).message).toBe(`leader a of ${JSON.stringify(name)} acts in term 3, which ended on this node`);
    // The same fence while it still leads writes.
    expect(await withFencedTransaction(db.pool, { ...fence, stillLeader: () => true }, async () => "wrote")).toBe("wrote");
  });

  it("sets the transaction's idle timeout: 10 s by default, the given one, or the server's with 0", async () => {
    const name = uniqueTestName("election");
    await publish({ name, term: 1n, nodeId: "a" });
    const fence = { name, term: 1n, nodeId: "a" };
    // A server-side default that is not 0, so "left to the server" shows.
    await db.pool.query(`ALTER DATABASE "${db.name}" SET idle_in_transaction_session_timeout = '7s'`);
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const idleTimeout = (options?: { idleTimeoutMs?: number }): Promise<string> =>
        withFencedTransaction(
          pool,
          fence,
          async (client) => (await client.query<{ t: string }>("SELECT current_setting('idle_in_transaction_session_timeout') AS t")).rows[0]!.t,
          options,
        );
      expect(await idleTimeout()).toBe("10s");
      expect(await idleTimeout({ idleTimeoutMs: 1_234 })).toBe("1234ms");
      expect(await idleTimeout({ idleTimeoutMs: 0 })).toBe("7s");
      // Local to the transaction: the session is back to the server's setting afterwards.
      expect((await pool.query<{ t: string }>("SELECT current_setting('idle_in_transaction_session_timeout') AS t")).rows[0]!.t).toBe("7s");
    } finally {
      await pool.end();
      await db.pool.query(`ALTER DATABASE "${db.name}" RESET idle_in_transaction_session_timeout`);
    }
  });
});
