import * as grpc from "@grpc/grpc-js";
import { JqClient } from "../../libs/client/index.js";
import { jobRequest } from "./job-requests.js";

// Steady submit load for the chaos suite: `total` idempotent jobs (key `<prefix>-<n>`) in batches,
// paced to spread over `spreadMs`, on `lanes` concurrent loops over one client that balances over
// every api replica, as a real client behind a list of addresses would. A batch that fails is sent
// again with the same keys until it is accepted, so each job exists exactly once whatever failed.
// Every call is recorded, so the test can say how long calls kept failing after a fault.

export interface RecordedCall {
  readonly lane: number;
  readonly start: number;
  readonly end: number;
  /** undefined when the call succeeded, else the gRPC code name. */
  readonly code: string | undefined;
}

export interface SteadyLoadOptions {
  readonly addresses: readonly string[];
  readonly queue: string;
  readonly total: number;
  readonly batch: number;
  readonly spreadMs: number;
  readonly lanes?: number;
  /** Deadline of each call. */
  readonly deadlineMs?: number;
  /**
   * A cheap read (ListQueues) this often on a lane of its own, so how long calls fail after a
   * fault is measured to this resolution however slowly jobs are submitted; default 100 ms.
   */
  readonly probeEveryMs?: number;
}

/** The SDK's own keepalive (libs/worker-sdk/options.ts): a frozen replica is noticed within ~4 s. */
export const CLIENT_KEEPALIVE = { timeMs: 2_000, timeoutMs: 2_000 };

export class SteadyLoad {
  readonly calls: RecordedCall[] = [];
  /** Idempotency key → job id, once accepted. */
  readonly jobs = new Map<string, string>();
  private readonly client: JqClient;
  private readonly prefix = `chaos-${Date.now().toString(36)}`;
  private next = 0;
  private extra = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private probing: Promise<void> | undefined;

  constructor(private readonly options: SteadyLoadOptions) {
    this.client = new JqClient({
      address: `ipv4:${options.addresses.join(",")}`,
      maxAttempts: 1,
      deadlineMs: options.deadlineMs ?? 5_000,
      channelOptions: {
        "grpc.keepalive_time_ms": CLIENT_KEEPALIVE.timeMs,
        "grpc.keepalive_timeout_ms": CLIENT_KEEPALIVE.timeoutMs,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.initial_reconnect_backoff_ms": 100,
        "grpc.max_reconnect_backoff_ms": 1_000,
        "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      },
    });
  }

  start(): this {
    const lanes = this.options.lanes ?? 2;
    this.running = Promise.all(Array.from({ length: lanes }, (_, lane) => this.lane(lane))).then(() => undefined);
    this.probing = this.probe(lanes);
    return this;
  }

  /** Resolves once every job was accepted (or `stop()` was called). */
  async finished(): Promise<void> {
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.running, this.probing]);
    this.client.close();
  }

  /**
   * Submits `n` more jobs at once (beyond `total`), retrying like the lanes do: for a fault that
   * needs jobs running when the paced load has already ended on a slow machine.
   */
  async submitMore(n: number): Promise<void> {
    const first = this.extra;
    this.extra += n;
    const keys = Array.from({ length: n }, (_, i) => `${this.prefix}-extra-${first + i}`);
    while (!this.stopped && !(await this.submit(-1, this.options.queue, keys))) await sleep(100);
  }

  /** The longest stretch of back-to-back failed calls on one lane that began in [from, to). */
  longestFailureRun(from: number, to: number): { ms: number; calls: number } {
    let worst = { ms: 0, calls: 0 };
    const byLane = new Map<number, RecordedCall[]>();
    for (const c of this.calls) byLane.set(c.lane, [...(byLane.get(c.lane) ?? []), c]);
    for (const calls of byLane.values()) {
      let first: RecordedCall | undefined;
      let count = 0;
      for (const c of calls) {
        if (c.code === undefined) {
          first = undefined;
          count = 0;
          continue;
        }
        first ??= c;
        count++;
        if (first.start >= from && first.start < to && c.end - first.start > worst.ms) worst = { ms: c.end - first.start, calls: count };
      }
    }
    return worst;
  }

  failureCodes(): Set<string> {
    return new Set(this.calls.flatMap((c) => (c.code === undefined ? [] : [c.code])));
  }

  private async lane(lane: number): Promise<void> {
    const { batch, total, spreadMs, queue } = this.options;
    const lanes = this.options.lanes ?? 2;
    const pauseMs = (spreadMs / Math.ceil(total / batch)) * lanes;
    while (!this.stopped && this.next < total) {
      const first = this.next;
      this.next = Math.min(total, first + batch);
      const keys = Array.from({ length: this.next - first }, (_, i) => `${this.prefix}-${first + i}`);
      const pacedUntil = performance.now() + pauseMs;
      while (!this.stopped && !(await this.submit(lane, queue, keys))) await sleep(100);
      await sleep(Math.max(0, pacedUntil - performance.now()));
    }
  }

  private async probe(lane: number): Promise<void> {
    const everyMs = this.options.probeEveryMs ?? 100;
    while (!this.stopped) {
      const start = performance.now();
      const code = await this.client.call(this.client.admin, "listQueues", { pageSize: 1, pageToken: "" }).then(
        () => undefined,
        (err: grpc.ServiceError) => grpc.status[err.code] ?? String(err.code),
      );
      this.calls.push({ lane, start, end: performance.now(), code });
      await sleep(Math.max(0, start + everyMs - performance.now()));
    }
  }

  private async submit(lane: number, queue: string, keys: string[]): Promise<boolean> {
    const start = performance.now();
    try {
      const { results } = await this.client.call(this.client.jobs, "submitJobs", { jobs: keys.map((idempotencyKey) => jobRequest(queue, { idempotencyKey })) });
      this.calls.push({ lane, start, end: performance.now(), code: undefined });
      results.forEach((r, i) => this.jobs.set(keys[i]!, r.job!.id));
      return true;
    } catch (err) {
      const code = (err as grpc.ServiceError).code;
      this.calls.push({ lane, start, end: performance.now(), code: grpc.status[code] ?? String(code) });
      return false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
