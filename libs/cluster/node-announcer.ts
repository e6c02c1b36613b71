import { hostname } from "node:os";
import type pg from "pg";
import type { Logger } from "../logging/logger.js";
import type { Component } from "../runtime/component.js";
import { JQ_VERSION } from "./version.js";

export type NodeRole = "api" | "scheduler" | "health";

/**
 * Announces this process in `cluster_nodes` every `intervalMs` (role, version, host, whether it
 * leads), so GetClusterStatus and apps/health see who is alive. A clean stop removes the row; rows
 * of nodes silent for a day are removed by whoever announces next.
 */
export class NodeAnnouncer implements Component {
  readonly name = "node-announcer";
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date();
  private started = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly node: { id: string; role: NodeRole; isLeader?: () => boolean },
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.announce();
    this.started = true;
    this.timer = setInterval(() => {
      this.announce().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "presence announcement failed"));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.started) return;
    this.started = false;
    await this.pool.query("DELETE FROM cluster_nodes WHERE node_id = $1", [this.node.id]).catch(() => {});
  }

  /** Announces now (e.g. on gaining or losing leadership) instead of at the next interval. */
  refresh(): void {
    if (!this.started) return;
    this.announce().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "presence announcement failed"));
  }

  private async announce(): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM cluster_nodes WHERE last_seen < now() - interval '1 day')
       INSERT INTO cluster_nodes (node_id, role, version, hostname, leader, started_at, last_seen)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (node_id) DO UPDATE SET role = $2, version = $3, hostname = $4, leader = $5, started_at = $6, last_seen = now()`,
      [this.node.id, this.node.role, JQ_VERSION, hostname(), this.node.isLeader?.() ?? false, this.startedAt],
    );
  }
}
