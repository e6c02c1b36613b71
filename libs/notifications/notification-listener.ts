import pg from "pg";
import { backoffDelayMs, type BackoffPolicy } from "../backoff/index.js";
import type { Logger } from "../logging/logger.js";

/** 100 ms doubling to 5 s between reconnects; one connection per process, so no jitter. */
const LISTEN_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: "none" };

/**
 * One LISTEN connection per process (SPEC §5): delivers NOTIFY payloads of the given channels to
 * `onNotification`, and reconnects with backoff when the connection drops. Notifications sent
 * while it was down are lost, so `onReconnect` fires after every re-established connection and the
 * owner does a full sweep; the owner's periodic sweep covers the rest.
 */
export class NotificationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;

  constructor(
    private readonly url: string,
    private readonly channels: readonly string[],
    private readonly onNotification: (channel: string, payload: string) => void,
    private readonly onReconnect: () => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: "jq-listener", keepAlive: true });
    client.on("notification", (n) => this.onNotification(n.channel, n.payload ?? ""));
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    await client.connect();
    for (const channel of this.channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempt = 0;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    this.log.warn({ err: err.message }, "LISTEN connection lost; reconnecting");
    void client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelayMs(this.attempt++, LISTEN_BACKOFF);
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (!this.stopped) this.onReconnect();
        },
        (err: unknown) => {
          this.log.warn({ err: (err as Error).message, delayMs: delay }, "LISTEN reconnect failed");
          this.scheduleReconnect();
        },
      );
    }, delay);
  }
}
