import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { LeaderElector, MonotonicClock } from "../../libs/leader/index.js";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../../libs/postgres/index.js";
import { startLeaderNode, type LeaderNodeProcess } from "./leader-process.js";
import type { LeaderNodeSpec } from "./leader-node.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { electionSlackMs } from "./election-timing.js";
import { timerLateness, type TimerLateness } from "./timer-lateness.js";
import { uniqueTestName } from "./unique-name.js";

/** What an election test of either kind (Redis or Postgres) works with. */
export interface ElectionBed<E extends LeaderElector> {
  /** A fresh migrated database for the file: the published terms (and Postgres's lock). */
  readonly db: TestDatabase;
  /** This test's election name: each test runs its own election (its own lock and row). */
  readonly name: string;
  /** Every elector of this test; stopped after it. */
  readonly electors: E[];
  /** How late this process's timers (so its electors') ran during this test: a loaded machine's delay, measured. */
  readonly lateness: TimerLateness;
  /** electionSlackMs: round trips plus the measured lateness: the slack a time bound of this test may add. */
  slackMs(): number;
  /** An elector in this process (stopped after the test), optionally on an injected clock. */
  elector(nodeId: string, now?: MonotonicClock): E;
  /** An elector in a child process that acts while it leads (killed after the test). */
  leaderNode(nodeId: string): LeaderNodeProcess;
}

/** How one kind of election makes its electors, given the test's database and election name. */
export interface ElectionKind<E extends LeaderElector> {
  create(db: TestDatabase, name: string, nodeId: string, now: MonotonicClock | undefined): E;
  node(db: TestDatabase, name: string, nodeId: string): LeaderNodeSpec;
}

/**
 * The set-up every election test file shares, whatever its lock store, registered as hooks of
 * the calling describe: a migrated database for the file, a fresh election name per test, and
 * every elector and child process of a test stopped after it.
 */
export function useElectionBed<E extends LeaderElector & { stop(): Promise<void> }>(kind: ElectionKind<E>): ElectionBed<E> {
  let db: TestDatabase;
  let name: string;
  const electors: E[] = [];
  const nodes: LeaderNodeProcess[] = [];
  const lateness = timerLateness();

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, await loadMigrations(MIGRATIONS_DIR));
  });
  beforeEach(() => {
    name = uniqueTestName("election");
    lateness.reset();
  });
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await Promise.all(nodes.splice(0).map((n) => n.kill()));
  });
  afterAll(async () => {
    lateness.stop();
    await db.drop();
  });

  return {
    get db() {
      return db;
    },
    get name() {
      return name;
    },
    electors,
    lateness,
    slackMs: () => electionSlackMs(lateness),
    elector(nodeId, now) {
      const e = kind.create(db, name, nodeId, now);
      electors.push(e);
      return e;
    },
    leaderNode(nodeId) {
      const node = startLeaderNode(kind.node(db, name, nodeId));
      nodes.push(node);
      return node;
    },
  };
}

/**
 * `bed` with more members for one lock store (a Redis client, session lookups). The members are
 * added on an object whose prototype is `bed`, so its getters keep answering the current test's
 * database and name.
 */
export function extendBed<E extends LeaderElector, X extends object>(bed: ElectionBed<E>, extras: X): ElectionBed<E> & X {
  return Object.defineProperties(Object.create(bed) as ElectionBed<E>, Object.getOwnPropertyDescriptors(extras)) as ElectionBed<E> & X;
}
