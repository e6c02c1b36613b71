import type pg from "pg";
import { readClusterStatus, type ClusterNodeRecord } from "../presence/index.js";
import type { JobStatus } from "../lifecycle/index.js";
import { measureOutboxLag } from "../outbox/index.js";
import { withSnapshot, type Db } from "../postgres/db.js";
import { listQueues, queueStats } from "../queues/index.js";
import type { Reachability } from "./reachability.js";
import { countWorkersByStatus, listRecentDeadLetters, type RecentDeadLetter } from "./view-queries.js";

/** What `/status` serves and the gauges report: one consistent look at the cluster. */
export interface ClusterView {
  readonly generatedAt: string;
  /** "ok", the error, or "not configured" (Redis and Kafka are optional, SPEC §7). */
  readonly dependencies: { readonly postgres: string; readonly redis: string; readonly kafka: string };
  readonly leader: { readonly nodeId: string; readonly term: string } | null;
  readonly nodes: readonly ClusterNodeRecord[];
  readonly queues: readonly QueueView[];
  readonly workers: { readonly online: number; readonly draining: number; readonly offline: number };
  /** Null while Postgres cannot be read. */
  readonly outbox: { readonly events: number; readonly oldestAgeSeconds: number | null } | null;
  readonly recentDeadLetters: readonly RecentDeadLetter[];
}

export interface QueueView {
  readonly name: string;
  readonly paused: boolean;
  readonly depth: Readonly<Record<JobStatus, number>>;
  /** Seconds since the oldest due PENDING job became due; null when none waits. */
  readonly oldestPendingAgeSeconds: number | null;
  readonly scheduled: number;
}

export interface ClusterViewSources {
  readonly pool: pg.Pool;
  /** Present only for the configured dependencies. */
  readonly redis: Reachability | undefined;
  readonly kafka: Reachability | undefined;
  /** A node is alive while it announced itself within this window. */
  readonly aliveWindowMs: number;
  readonly deadLetterLimit: number;
}

const QUEUE_PAGE = 500;

/**
 * Reads everything the cluster view shows. Dependency failures are reported, not thrown: with
 * Postgres down the snapshot still answers, with empty cluster sections and the error named.
 */
export async function readClusterView(src: ClusterViewSources, now: Date): Promise<ClusterView> {
  const [postgres, redis, kafka] = await Promise.all([
    readPostgresSide(src, now).then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => ({ ok: false as const, error: describe(err) }),
    ),
    reachabilityOf(src.redis),
    reachabilityOf(src.kafka),
  ]);
  const base = { generatedAt: now.toISOString(), dependencies: { postgres: postgres.ok ? "ok" : postgres.error, redis, kafka } };
  if (!postgres.ok) {
    return { ...base, leader: null, nodes: [], queues: [], workers: { online: 0, draining: 0, offline: 0 }, outbox: null, recentDeadLetters: [] };
  }
  return { ...base, ...postgres.value };
}

/**
 * One snapshot for every section, read one after the other on one connection: read in parallel,
 * a job dead-lettered between two reads showed in the recent dead letters but not in its queue's
 * depth (seen in CI).
 */
async function readPostgresSide(src: ClusterViewSources, now: Date): Promise<Omit<ClusterView, "generatedAt" | "dependencies">> {
  const { cluster, queues, workers, outbox, recentDeadLetters } = await withSnapshot(src.pool, async (db) => ({
    cluster: await readClusterStatus(db, src.aliveWindowMs),
    queues: await readAllQueues(db),
    workers: await countWorkersByStatus(db),
    outbox: await measureOutboxLag(db, now),
    recentDeadLetters: await listRecentDeadLetters(db, src.deadLetterLimit),
  }));
  return {
    leader: cluster.leader,
    nodes: cluster.nodes,
    queues,
    workers: { online: workers.ONLINE, draining: workers.DRAINING, offline: workers.OFFLINE },
    outbox: { events: outbox.rows, oldestAgeSeconds: outbox.oldestAgeMs === null ? null : outbox.oldestAgeMs / 1000 },
    recentDeadLetters,
  };
}

async function readAllQueues(db: Db): Promise<QueueView[]> {
  const views: QueueView[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await listQueues(db, after, QUEUE_PAGE);
    const stats = await queueStats(db, page.queues.map((q) => q.name));
    for (const q of page.queues) {
      const s = stats.get(q.name)!;
      views.push({
        name: q.name,
        paused: q.paused,
        depth: s.depth,
        oldestPendingAgeSeconds: s.oldestPendingAgeMs === null ? null : s.oldestPendingAgeMs / 1000,
        scheduled: s.scheduled,
      });
    }
    if (!page.more) return views;
    after = page.queues.at(-1)!.name;
  }
}

async function reachabilityOf(p: Reachability | undefined): Promise<string> {
  if (p === undefined) return "not configured";
  try {
    await p.check();
    return "ok";
  } catch (err) {
    return describe(err);
  }
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)) || "failed";
}
