import type pg from "pg";
import { readJobStates } from "../../../libs/jobs/index.js";
import type { WorkerStatus } from "../../../libs/workers/index.js";
import { recordHeartbeats } from "../../../libs/workers/index.js";

export interface HeldDelivery {
  readonly jobId: string;
  readonly attempt: number;
}

export interface HeartbeatAnswer {
  /** undefined: the worker is unknown. */
  readonly status: WorkerStatus | undefined;
  /** Deliveries the worker holds that it must abort (no longer its current attempt). */
  readonly stale: { jobId: string; attempt: number; reason: string; message: string }[];
}

interface Pending {
  readonly workerId: string;
  readonly held: readonly HeldDelivery[];
  resolve(a: HeartbeatAnswer): void;
  reject(err: unknown): void;
}

/**
 * Coalesces heartbeats: those arriving within `windowMs` are answered by one UPDATE of `workers`
 * and one read of the held jobs' states, so hundreds of workers cost a few statements a second
 * instead of a write storm on the workers table.
 */
export class HeartbeatBatcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly windowMs = 50,
  ) {}

  beat(workerId: string, held: readonly HeldDelivery[]): Promise<HeartbeatAnswer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ workerId, held, resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
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
}
