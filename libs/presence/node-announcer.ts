import { hostname } from "node:os";
import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import type { Component } from "../runtime/component.js";
import { JQ_VERSION } from "./version.js";

export type NodeRole = "api" | "scheduler" | "health";

/** Presence intervals of silence after which a node's row is removed (alive means within 3). */
export const AGE_OUT_INTERVALS = 12;
/** A node is alive while it announced itself within this many presence intervals. */
export const ALIVE_INTERVALS = 3;

/** How recently a node must have announced itself to count as alive: GetClusterStatus and the cluster view. */
export function aliveWindowMs(presenceIntervalMs: number): number {
  return ALIVE_INTERVALS * presenceIntervalMs;
}

/**
 * Announces this process in `cluster_nodes` every `intervalMs` (role, version, host, whether it
 * leads), so GetClusterStatus and apps/health see who is alive. A clean stop removes the row. A
 * node that could not (killed, or its database went first) shows as not alive for a while, then
 * ages out: whoever announces next removes rows silent for AGE_OUT_INTERVALS presence intervals
 * (one minute at the default 5 s), so a restarted cluster does not list its previous run for long.
 */
export class NodeAnnouncer implements Component {
  readonly name = "node-announcer";
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date();
  private started = false;
  /** Announcements under way; stop() waits for them, or one landing after its DELETE would revive the row. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly node: { id: string; role: NodeRole; isLeader?: () => boolean },
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.announce();
    this.started = true;
    this.timer = setInterval(() => this.refresh(), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.started) return;
    this.started = false;
    await Promise.allSettled([...this.inFlight]);
    await this.pool.query("DELETE FROM cluster_nodes WHERE node_id = $1", [this.node.id]).catch(() => {});
  }

  /** Announces now (e.g. on gaining or losing leadership) instead of at the next interval. */
  refresh(): void {
    if (!this.started) return;
    const announcing = this.announce().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "presence announcement failed"));
    this.inFlight.add(announcing);
    void announcing.finally(() => this.inFlight.delete(announcing));
  }

  private async announce(): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM cluster_nodes WHERE node_id <> $1 AND last_seen < now() - $7::int * interval '1 millisecond')
       INSERT INTO cluster_nodes (node_id, role, version, hostname, leader, started_at, last_seen)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (node_id) DO UPDATE SET role = $2, version = $3, hostname = $4, leader = $5, started_at = $6, last_seen = now()`,
      [this.node.id, this.node.role, JQ_VERSION, hostname(), this.node.isLeader?.() ?? false, this.startedAt, AGE_OUT_INTERVALS * this.intervalMs],
    );
  }
}
