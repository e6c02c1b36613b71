import type pg from "pg";
import { finishAttempts, type FinishRequest, type FinishVerdict } from "../../../libs/attempts/index.js";
import type { Logger } from "../../../libs/logging/logger.js";

interface Pending {
  readonly request: FinishRequest;
  resolve(v: FinishVerdict): void;
  reject(err: unknown): void;
}

/**
 * Collects results from every stream and unary call of this replica and records them in one
 * transaction per batch (SPEC §5: "many results arriving at once are written in one transaction").
 * A batch starts as soon as the previous one is written; under light load that is a single
 * result with no added wait, under heavy load it is everything that arrived meanwhile.
 */
export class ResultBatcher {
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly onRecorded: (requests: readonly FinishRequest[], verdicts: readonly FinishVerdict[]) => void,
    private readonly maxBatch = 1000,
  ) {}

  record(request: FinishRequest): Promise<FinishVerdict> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.writing || this.queue.length > 0) {
      this.kick();
      await this.writing;
    }
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.writing = this.write(batch).finally(() => {
      this.writing = undefined;
      this.kick();
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    const requests = batch.map((p) => p.request);
    try {
      const verdicts = await finishAttempts(this.pool, requests);
      batch.forEach((p, i) => p.resolve(verdicts[i]!));
      this.onRecorded(requests, verdicts);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, results: batch.length }, "recording results failed");
      for (const p of batch) p.reject(err);
    }
  }
}
