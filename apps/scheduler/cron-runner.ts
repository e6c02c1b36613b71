import { PgBoss, type JobWithMetadata } from "pg-boss";
import type pg from "pg";
import { submitJobs } from "../../libs/jobs/index.js";
import type { Logger } from "../../libs/logging/logger.js";
import type { QueueWaker } from "../../libs/notifications/index.js";
import { enabledSchedules, getSchedule } from "../../libs/schedules/index.js";

/** The one pg-boss queue all jq schedules fire into, each under its schedule name as the key. */
export const CRON_QUEUE = "jq-cron";

interface Firing {
  readonly schedule: string;
}

/**
 * Recurring schedules through pg-boss (SPEC §7), run by the scheduler leader only.
 *
 * jq's `schedules` table is the truth; while leading, this mirrors every enabled schedule into
 * pg-boss (`schedule(CRON_QUEUE, cron, …, { tz, key: name })`) and removes the ones that are gone
 * or disabled. pg-boss's timekeeper sends one job per tick; the handler turns it into an ordinary
 * jq job whose idempotency key names the schedule and the tick, so even a second firing of the
 * same tick (a failover in the middle of one) submits nothing new: exactly one job per tick.
 */
export class CronRunner {
  private boss: PgBoss | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly databaseUrl: string,
    private readonly pool: pg.Pool,
    private readonly waker: QueueWaker,
    private readonly log: Logger,
    private readonly options: { syncMs: number; cronMonitorIntervalSeconds: number },
  ) {}

  /** Starts pg-boss and the mirror; serialised with `unlead`. */
  lead(): Promise<void> {
    this.transition = this.transition.then(() => this.startBoss()).catch((err: unknown) => {
      this.log.error({ err: (err as Error).message }, "cron schedules could not start; retrying at the next election");
    });
    return this.transition;
  }

  unlead(): Promise<void> {
    this.transition = this.transition.then(() => this.stopBoss());
    return this.transition;
  }

  private async startBoss(): Promise<void> {
    if (this.boss) return;
    const boss = new PgBoss({
      connectionString: this.databaseUrl,
      schema: "pgboss",
      max: 3,
      application_name: "jq-scheduler-cron",
      cronMonitorIntervalSeconds: this.options.cronMonitorIntervalSeconds,
    });
    boss.on("error", (err: Error) => this.log.warn({ err: err.message }, "pg-boss error"));
    await boss.start();
    this.boss = boss;
    await boss.createQueue(CRON_QUEUE).catch(() => {});
    await this.sync();
    await boss.work<Firing>(CRON_QUEUE, { batchSize: 10, includeMetadata: true } as const, (jobs) => this.fire(jobs as JobWithMetadata<Firing>[]));
    this.syncTimer = setInterval(() => void this.sync().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "schedule sync failed")), this.options.syncMs);
    this.log.info("cron schedules running");
  }

  private async stopBoss(): Promise<void> {
    clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    const boss = this.boss;
    this.boss = undefined;
    await boss?.stop({ graceful: true, timeout: 5_000, close: true });
  }

  /** Makes pg-boss's schedules match jq's enabled schedules. */
  async sync(): Promise<void> {
    const boss = this.boss;
    if (!boss) return;
    const wanted = await enabledSchedules(this.pool);
    const existing = await boss.getSchedules(CRON_QUEUE);
    for (const s of wanted) {
      await boss.schedule(CRON_QUEUE, s.cron, { schedule: s.name } satisfies Firing, { tz: s.timeZone, key: s.name });
    }
    const names = new Set(wanted.map((s) => s.name));
    for (const e of existing) if (e.key && !names.has(e.key)) await boss.unschedule(CRON_QUEUE, e.key);
  }

  private async fire(jobs: JobWithMetadata<Firing>[]): Promise<void> {
    for (const job of jobs) {
      const schedule = await getSchedule(this.pool, job.data.schedule);
      if (!schedule?.enabled) continue;
      const tick = new Date(job.singletonOn ?? job.createdOn);
      tick.setUTCSeconds(0, 0);
      const [submitted] = await submitJobs(this.pool, [
        {
          queue: schedule.queue,
          payload: schedule.payload,
          metadata: { ...schedule.metadata, "jq.schedule": schedule.name, "jq.schedule_tick": tick.toISOString() },
          priority: schedule.priority,
          maxRetries: schedule.maxRetries,
          timeoutSeconds: schedule.timeoutSeconds,
          delayMs: null,
          runAt: null,
          idempotencyKey: `schedule:${schedule.name}:${tick.toISOString()}`,
        },
      ]);
      if (submitted && !submitted.deduplicated) {
        this.waker.wake([schedule.queue]);
        this.log.info({ schedule: schedule.name, tick: tick.toISOString(), job: submitted.job.id }, "schedule fired");
      }
    }
  }
}
