import type pg from "pg";
import { reconcileHeartbeats } from "../../../libs/attempts/index.js";
import { readJobStates } from "../../../libs/jobs/index.js";
import type { Logger } from "../../../libs/logging/logger.js";
import type { DeliveryRef, WorkerStatus } from "../../../libs/workers/index.js";
import { recordHeartbeats } from "../../../libs/workers/index.js";

export type HeldDelivery = DeliveryRef;

export interface HeartbeatAnswer {
  /** undefined: the worker is unknown. */
  readonly status: WorkerStatus | undefined;
  /** Deliveries the worker holds that it must abort (no longer its current attempt). */
  readonly stale: { jobId: string; attempt: number; reason: string; message: string }[];
}

export interface Beat {
  readonly workerId: string;
  readonly held: readonly HeldDelivery[];
  /** `held_jobs_complete`: the list is everything the worker holds, so it is reconciled. */
  readonly complete: boolean;
}

interface Pending extends Beat {
  resolve(a: HeartbeatAnswer): void;
  reject(err: unknown): void;
}

export interface HeartbeatBatcherOptions {
  readonly log: Logger;
  /** A worker's results and delivery marks this replica has not yet written. */
  readonly inFlight: (workerId: string) => DeliveryRef[];
  /** Workers that lost jobs to the reconciliation: their slots are free again. */
  readonly released: (workerIds: readonly string[]) => void;
  /** How long a delivery must be missing from the heartbeats before it is released (the heartbeat timeout). */
  readonly graceMs: number;
  readonly windowMs?: number;
}

/**
 * Coalesces heartbeats: those arriving within `windowMs` are answered by one UPDATE of `workers`
 * and one read of the held jobs' states, so hundreds of workers cost a few statements a second
 * instead of a write storm on the workers table. Heartbeats that list everything their worker
 * holds are then reconciled with the database (`reconcileHeartbeats`): what a worker no longer
 * holds goes back after two such heartbeats and the heartbeat timeout. A failed reconciliation is logged and tried again
 * at the next heartbeat; it never fails the heartbeat.
 */
export class HeartbeatBatcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: HeartbeatBatcherOptions,
  ) {}

  beat(b: Beat): Promise<HeartbeatAnswer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...b, resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.options.windowMs ?? 50);
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.flush();
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    try {
      const statuses = await recordHeartbeats(this.pool, [...new Set(batch.map((p) => p.workerId))]);
      const refs = batch.flatMap((p) => p.held.map((h) => ({ worker: p.workerId, ...h })));
      const current = await readJobStates(this.pool, refs.map((r) => r.jobId));
      await this.reconcile(batch.filter((p) => p.complete && statuses.get(p.workerId) !== undefined && statuses.get(p.workerId) !== "OFFLINE"));
      for (const p of batch) {
        const stale = p.held
          .filter((h) => {
            const j = current.get(h.jobId);
            return !j || j.attempt !== h.attempt || j.workerId !== p.workerId || (j.status !== "ASSIGNED" && j.status !== "RUNNING");
          })
          .map((h) => {
            const j = current.get(h.jobId);
            const reason = !j ? "UNSPECIFIED" : j.attempt === h.attempt ? j.statusReason : "WORKER_LOST";
            return { ...h, reason, message: j ? `job is ${j.status} (attempt ${j.attempt})` : "job no longer exists" };
          });
        p.resolve({ status: statuses.get(p.workerId), stale });
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private async reconcile(beats: readonly Pending[]): Promise<void> {
    if (beats.length === 0) return;
    // One reconciliation per worker: its latest heartbeat in this window.
    const latest = new Map(beats.map((p) => [p.workerId, p]));
    try {
      const lost = await reconcileHeartbeats(
        this.pool,
        [...latest.values()].map((p) => ({ workerId: p.workerId, reported: p.held, inFlight: this.options.inFlight(p.workerId) })),
        this.options.graceMs,
      );
      for (const [worker, jobs] of lost) this.options.log.warn({ worker, jobs }, "released jobs the worker no longer holds (missing from its heartbeats)");
      if (lost.size > 0) this.options.released([...lost.keys()]);
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, "could not reconcile held jobs; the next heartbeat tries again");
    }
  }
}
