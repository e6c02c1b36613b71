import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { withinDeadline } from "../../test/bed/wait-until.js";
import type { Progress, StartMessage, StartSample, WorkerMessage } from "./protocol.js";

// The bench's side of its worker processes (worker.ts): forks them with this process' loader flags
// (so tsx runs them), starts each, keeps the progress each reports and collects their samples.

const WORKER_ENTRY = fileURLToPath(new URL("./worker.ts", import.meta.url));
const STOP_GRACE_MS = 20_000;

export interface WorkerFleet {
  readonly pids: readonly number[];
  /** The sum of what the workers last reported (lastCompletedAtMs: the latest). */
  progress(): Progress;
  /** Throws when a worker has failed or exited. */
  throwIfFailed(): void;
  /** The start samples every worker kept since the last collect. */
  collect(): Promise<StartSample[]>;
  /** Closes every worker gracefully and returns their final progress; safe to call twice. */
  stop(): Promise<Progress>;
  /** SIGKILLs every worker, for when there is no time to stop them. */
  killNow(): void;
}

const NOTHING: Progress = { started: 0, completed: 0, lastCompletedAtMs: 0, refused: 0 };
const sum = (all: readonly Progress[]): Progress =>
  all.reduce((a, b) => ({ started: a.started + b.started, completed: a.completed + b.completed, lastCompletedAtMs: Math.max(a.lastCompletedAtMs, b.lastCompletedAtMs), refused: a.refused + b.refused }), NOTHING);

class WorkerProcess {
  progress: Progress = NOTHING;
  failure: string | undefined;
  readonly exited: Promise<unknown>;
  private readonly waiters = new Map<WorkerMessage["type"], (message: WorkerMessage) => void>();

  constructor(readonly child: ChildProcess, readonly label: string) {
    this.exited = once(child, "exit");
    void this.exited.then(() => this.fail(`exited (${child.exitCode ?? child.signalCode})`));
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "progress" || message.type === "stopped") this.progress = message;
      if (message.type === "failed") this.fail(message.error);
      this.waiters.get(message.type)?.(message);
      this.waiters.delete(message.type);
    });
  }

  private rejectWaiting: ((error: Error) => void) | undefined;

  private fail(why: string): void {
    this.failure ??= `${this.label}: ${why}`;
    this.rejectWaiting?.(new Error(this.failure));
  }

  /** Sends `message` and waits for the reply of type `reply`; rejects if the worker fails or exits first. */
  async ask<T extends WorkerMessage["type"]>(message: object, reply: T): Promise<Extract<WorkerMessage, { type: T }>> {
    if (this.failure !== undefined) throw new Error(this.failure);
    const answer = new Promise<WorkerMessage>((resolve, reject) => {
      this.waiters.set(reply, resolve);
      this.rejectWaiting = reject;
    });
    this.child.send(message);
    return (await answer) as Extract<WorkerMessage, { type: T }>;
  }
}

/** Forks `count` workers and starts worker i with `startMessage(i)`; kills them all if any fails to start. */
export async function startWorkerFleet(count: number, startMessage: (index: number) => StartMessage): Promise<WorkerFleet> {
  const workers = Array.from({ length: count }, (_, i) => new WorkerProcess(fork(WORKER_ENTRY, { stdio: ["ignore", "inherit", "inherit", "ipc"] }), `worker#${i + 1}`));
  const killNow = (): void => void workers.forEach((w) => w.child.kill("SIGKILL"));
  const stopOne = async (w: WorkerProcess): Promise<Progress> => {
    if (w.failure === undefined) await withinDeadline(w.ask({ type: "stop" }, "stopped").catch(() => undefined), STOP_GRACE_MS);
    if ((await withinDeadline(w.exited, 2_000)) === undefined) {
      w.child.kill("SIGKILL");
      await w.exited;
    }
    return w.progress;
  };
  let stopping: Promise<Progress> | undefined;
  const fleet: WorkerFleet = {
    pids: workers.map((w) => w.child.pid ?? -1),
    progress: () => sum(workers.map((w) => w.progress)),
    throwIfFailed() {
      const why = workers.find((w) => w.failure !== undefined)?.failure;
      if (why !== undefined) throw new Error(why);
    },
    async collect() {
      const replies = await Promise.all(workers.map((w) => w.ask({ type: "collect" }, "collected")));
      return replies.flatMap((reply) => reply.samples);
    },
    stop: () => (stopping ??= Promise.all(workers.map(stopOne)).then(sum)),
    killNow,
  };
  try {
    await Promise.all(workers.map((w, i) => w.ask(startMessage(i), "ready")));
    return fleet;
  } catch (error) {
    killNow();
    await Promise.all(workers.map((w) => w.exited));
    throw error;
  }
}
