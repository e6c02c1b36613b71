import { DependencyUnavailable } from "../../../libs/errors/index.js";
import type { JobEventRecord } from "../../../libs/jobs/index.js";
import { isFinalStatus } from "../../../libs/lifecycle/index.js";
import type { WatchJobResponse } from "../../../libs/proto/index.js";
import { eventToProto, jobToProto } from "../../../libs/wire/index.js";
import type { JobServiceDeps } from "./job-service.js";

/**
 * Streams a job's events after `afterId` until an event leaves it in a final state (DONE or
 * DEAD_LETTERED) with nothing after it; that last message also carries the final Job. A job that
 * is already final with nothing new after the cursor gets one message with the Job alone.
 */
export async function watchJobEvents(
  deps: Pick<JobServiceDeps, "jobs" | "feed">,
  jobId: string,
  afterId: string,
  signal: AbortSignal,
  send: (res: WatchJobResponse) => Promise<void>,
): Promise<void> {
  const finalJobIfSettled = async (lastEventId: string) => {
    const job = await deps.jobs.get(jobId, true);
    if (!job || !isFinalStatus(job.status)) return undefined;
    const newer = await deps.jobs.events(jobId, lastEventId, 1);
    return newer.length === 0 ? job : undefined;
  };
  const settled = await finalJobIfSettled(afterId);
  if (settled) return send({ event: undefined, job: jobToProto(settled) });

  const queue: JobEventRecord[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const unsubscribe = deps.feed.subscribe(
    jobId,
    afterId,
    (events) => {
      queue.push(...events);
      wake?.();
    },
    () => {
      closed = true;
      wake?.();
    },
  );
  const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  try {
    for (;;) {
      if (signal.aborted) return;
      const event = queue.shift();
      // The replica is shutting down: UNAVAILABLE tells the client to watch again elsewhere.
      if (!event && closed) throw new DependencyUnavailable("this API replica (shutting down)");
      if (!event) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        wake = undefined;
        continue;
      }
      const job = isFinalStatus(event.toStatus) && queue.length === 0 ? await finalJobIfSettled(event.id) : undefined;
      await send({ event: eventToProto(event), job: job ? jobToProto(job) : undefined });
      if (job) return;
    }
  } finally {
    unsubscribe();
  }
}
