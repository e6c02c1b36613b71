import { Gauge, type Registry } from "prom-client";
import { JOB_STATUSES } from "../lifecycle/index.js";
import { WORKER_STATUSES } from "../workers/worker-status.js";
import type { ClusterView } from "./cluster-view.js";

const NODE_ROLES = ["api", "scheduler", "health"] as const;

/**
 * The cluster view as Prometheus gauges, each filled at scrape time from the same cached snapshot
 * `/status` serves. Cluster gauges are left empty (no samples) while Postgres cannot be read, so a
 * scrape never reports stale or made-up numbers; jq_dependency_up says why.
 */
export function registerClusterViewGauges(registry: Registry, snapshot: () => Promise<ClusterView>): void {
  const registers = [registry];
  const load = snapshot;
  const readable = (s: ClusterView) => s.dependencies.postgres === "ok";

  new Gauge({
    name: "jq_queue_jobs",
    help: "Jobs in each queue by status.",
    labelNames: ["queue", "status"] as const,
    registers,
    async collect() {
      this.reset();
      const s = await load();
      if (!readable(s)) return;
      for (const q of s.queues) for (const status of JOB_STATUSES) this.set({ queue: q.name, status }, q.depth[status]);
    },
  });
  new Gauge({
    name: "jq_queue_oldest_pending_age_seconds",
    help: "Seconds the oldest due PENDING job of each queue has waited; 0 when none waits.",
    labelNames: ["queue"] as const,
    registers,
    async collect() {
      this.reset();
      const s = await load();
      if (!readable(s)) return;
      for (const q of s.queues) this.set({ queue: q.name }, q.oldestPendingAgeSeconds ?? 0);
    },
  });
  new Gauge({
    name: "jq_outbox_events",
    help: "Job events written to the outbox and not yet acknowledged by Kafka.",
    registers,
    async collect() {
      this.reset();
      const s = await load();
      if (s.outbox) this.set(s.outbox.events);
    },
  });
  new Gauge({
    name: "jq_outbox_oldest_age_seconds",
    help: "Age in seconds of the oldest event waiting in the outbox; 0 when it is empty.",
    registers,
    async collect() {
      this.reset();
      const s = await load();
      if (s.outbox) this.set(s.outbox.oldestAgeSeconds ?? 0);
    },
  });
  new Gauge({
    name: "jq_workers",
    help: "Registered workers by status.",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      this.reset();
      const s = await load();
      if (!readable(s)) return;
      const counts = { ONLINE: s.workers.online, DRAINING: s.workers.draining, OFFLINE: s.workers.offline };
      for (const status of WORKER_STATUSES) this.set({ status }, counts[status]);
    },
  });
  new Gauge({
    name: "jq_nodes_alive",
    help: "jq processes that announced themselves within the presence timeout, by role.",
    labelNames: ["role"] as const,
    registers,
    async collect() {
      this.reset();
      const s = await load();
      if (!readable(s)) return;
      for (const role of NODE_ROLES) this.set({ role }, s.nodes.filter((n) => n.role === role && n.alive).length);
    },
  });
  new Gauge({
    name: "jq_scheduler_leader_present",
    help: "1 when a live scheduler holds the leader lock, 0 otherwise.",
    registers,
    async collect() {
      this.reset();
      const s = await load();
      if (readable(s)) this.set(s.leader ? 1 : 0);
    },
  });
  new Gauge({
    name: "jq_dependency_up",
    help: "1 when the dependency answered the health process's last check, 0 when it failed; absent when not configured.",
    labelNames: ["dependency"] as const,
    registers,
    async collect() {
      this.reset();
      const s = await load();
      for (const [dependency, outcome] of Object.entries(s.dependencies)) {
        if (outcome !== "not configured") this.set({ dependency }, outcome === "ok" ? 1 : 0);
      }
    },
  });
}
