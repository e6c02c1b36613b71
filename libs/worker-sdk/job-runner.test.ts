import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { JobAssignment, JobAttemptRef, JobResult } from "../proto/index.js";
import { JobAbortedError, NonRetryableError } from "./errors.js";
import { JobRunner } from "./job-runner.js";
import type { JobHandler } from "./options.js";
import { SILENT_LOGGER } from "./options.js";

function assignment(n: number, extra: Partial<JobAssignment> = {}): JobAssignment {
  return {
    jobId: `job-${n}`,
    queue: "q",
    attempt: 1,
    payload: Buffer.from(`payload-${n}`),
    metadata: {},
    priority: 0,
    deadline: undefined,
    createdAt: undefined,
    retryCount: 0,
    maxRetries: 3,
    ...extra,
  };
}

function runnerWith(handler: JobHandler, concurrency = 2) {
  const results: JobResult[] = [];
  const voided: Array<JobAttemptRef & { kind: string }> = [];
  const runner = new JobRunner(
    { concurrency, handler, workerId: () => "w-1", logger: SILENT_LOGGER },
    { onResult: (_key, result) => results.push(result), onVoided: (ref, reason) => voided.push({ ...ref, kind: reason.kind }) },
  );
  return { runner, results, voided };
}

/** A handler whose calls wait until released, recording how many ran at once. */
function gatedHandler() {
  const gates = new Map<string, () => void>();
  const state = { running: 0, maxRunning: 0, signals: new Map<string, AbortSignal>() };
  const handler: JobHandler = async (job, { signal }) => {
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    state.signals.set(job.id, signal);
    try {
      await new Promise<void>((resolve) => gates.set(job.id, resolve));
      return `done ${job.id}`;
    } finally {
      state.running--;
    }
  };
  const release = async (id: string) => {
    while (!gates.has(id)) await sleep(1);
    gates.get(id)?.();
  };
  return { handler, state, release };
}

describe("JobRunner", () => {
  it("never runs more than `concurrency` handlers; extra deliveries wait", async () => {
    const { handler, state, release } = gatedHandler();
    const { runner, results } = runnerWith(handler, 2);
    for (const n of [1, 2, 3, 4]) runner.accept(assignment(n));
    await sleep(5);
    expect(state.running).toBe(2);
    expect(runner.heldRefs()).toHaveLength(4);
    for (const n of [1, 2, 3, 4]) await release(`job-${n}`);
    await runner.idle();
    expect(state.maxRunning).toBe(2);
    expect(results.map((r) => r.jobId)).toEqual(["job-1", "job-2", "job-3", "job-4"]);
    expect(runner.heldRefs()).toEqual([]);
  });

  it("reports a thrown error as a failure and a NonRetryableError as not retryable", async () => {
    const { runner, results } = runnerWith(async (job) => {
      if (job.id === "job-1") throw new Error("transient");
      throw new NonRetryableError("permanent");
    });
    runner.accept(assignment(1));
    runner.accept(assignment(2));
    await runner.idle();
    expect(results.map((r) => r.outcome)).toEqual([
      { $case: "failure", value: { message: "transient" } },
      { $case: "failure", value: { message: "permanent", retryable: false } },
    ]);
  });

  it("treats a synchronous throw and an unsupported return value as failures", async () => {
    const { runner, results } = runnerWith(((job) => {
      if (job.id === "job-1") throw new Error("sync");
      return 42 as unknown as string;
    }) as JobHandler);
    runner.accept(assignment(1));
    runner.accept(assignment(2));
    await runner.idle();
    expect(results[0]?.outcome).toEqual({ $case: "failure", value: { message: "sync" } });
    expect(results[1]?.outcome?.$case).toBe("failure");
  });

  it("a cancellation aborts the signal, voids the delivery and frees its slot for a waiting one", async () => {
    const { handler, state, release } = gatedHandler();
    const { runner, results, voided } = runnerWith(handler, 1);
    runner.accept(assignment(1));
    runner.accept(assignment(2));
    await sleep(5);
    runner.cancel("job-1", 1, new JobAbortedError("cancelled", "CancelJob"));
    const signal = state.signals.get("job-1");
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as JobAbortedError).kind).toBe("cancelled");
    expect(runner.heldRefs()).toEqual([{ jobId: "job-2", attempt: 1 }]);
    await release("job-1"); // the aborted handler returns after all: its result is dropped
    await release("job-2");
    await runner.idle();
    expect(voided).toEqual([{ jobId: "job-1", attempt: 1, kind: "cancelled" }]);
    expect(results.map((r) => r.jobId)).toEqual(["job-2"]);
  });

  it("ignores a cancellation of an older attempt than the one held", async () => {
    const { handler, release } = gatedHandler();
    const { runner, voided } = runnerWith(handler);
    runner.accept(assignment(1, { attempt: 3 }));
    runner.cancel("job-1", 2, new JobAbortedError("cancelled", "old"));
    expect(voided).toEqual([]);
    await release("job-1");
    await runner.idle();
  });

  it("aborts the signal at the deadline but still reports what the handler returns", async () => {
    const { runner, results } = runnerWith(async (_job, { signal, deadline }) => {
      expect(deadline).toBeInstanceOf(Date);
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      throw signal.reason;
    });
    runner.accept(assignment(1, { deadline: new Date(Date.now() + 30) }));
    await runner.idle();
    expect(results[0]?.outcome).toEqual({ $case: "failure", value: { message: "the execution deadline passed" } });
  });

  it("fails without running a delivery whose deadline passed while it waited", async () => {
    let calls = 0;
    const { runner, results } = runnerWith(() => {
      calls++;
    });
    runner.accept(assignment(1, { deadline: new Date(Date.now() - 1) }));
    await runner.idle();
    expect(calls).toBe(0);
    expect(results[0]?.outcome).toEqual({ $case: "failure", value: { message: "the execution deadline passed before the job started" } });
  });

  it("abandonAll voids everything, starts nothing more and refuses new deliveries", async () => {
    const { handler, state, release } = gatedHandler();
    const { runner, results, voided } = runnerWith(handler, 1);
    runner.accept(assignment(1));
    runner.accept(assignment(2));
    await sleep(5);
    runner.abandonAll(new JobAbortedError("closing", "bye"));
    expect(voided.map((v) => v.jobId)).toEqual(["job-1", "job-2"]);
    expect(runner.accept(assignment(3))).toBe(false);
    await release("job-1");
    await sleep(5);
    expect(state.signals.has("job-2")).toBe(false);
    expect(results).toEqual([]);
    expect(runner.inFlight).toBe(0);
  });
});
