import type { Db } from "../postgres/db.js";
import type { NodeRole } from "./node-announcer.js";

export interface ClusterNodeRecord {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly version: string;
  readonly hostname: string;
  readonly leader: boolean;
  readonly alive: boolean;
  readonly startedAt: Date;
  readonly lastSeenAt: Date;
}

export interface ClusterStatus {
  /** The scheduler whose term is published and which is alive and says it leads; null otherwise. */
  readonly leader: { readonly nodeId: string; readonly term: string } | null;
  readonly nodes: readonly ClusterNodeRecord[];
}

/**
 * Who is in the cluster, from the nodes' presence rows and the published leader term. A node is
 * alive while it announced itself within `aliveWindowMs`; the leader is reported only while the
 * node named in jq_leader is alive and itself says it leads, so a failover shows no leader rather
 * than a dead one.
 */
export async function readClusterStatus(db: Db, aliveWindowMs: number): Promise<ClusterStatus> {
  const [nodes, leader] = await Promise.all([
    db.query<ClusterNodeRecord>(
      `SELECT node_id AS "nodeId", role, version, hostname, leader,
              last_seen > now() - $1::int * interval '1 millisecond' AS alive,
              started_at AS "startedAt", last_seen AS "lastSeenAt"
       FROM cluster_nodes ORDER BY role, node_id`,
      [aliveWindowMs],
    ),
    db.query<{ node_id: string; term: string }>("SELECT node_id, term::text FROM jq_leader WHERE name = 'scheduler'"),
  ]);
  const published = leader.rows[0];
  const holder = published && nodes.rows.find((n) => n.nodeId === published.node_id && n.alive && n.leader);
  return {
    leader: holder ? { nodeId: holder.nodeId, term: published.term } : null,
    nodes: nodes.rows.map((n) => ({ ...n, leader: holder !== undefined && n.nodeId === holder.nodeId })),
  };
}
