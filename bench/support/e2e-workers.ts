import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { withinDeadline } from "../../test/bed/wait-until.js";
import type { StartMessage, StartSample, WorkerCounts, WorkerMessage } from "./e2e-protocol.js";

// The bench's side of its worker processes (e2e-worker.ts): forks them with this process' loader
// flags (so tsx runs them), starts each with a StartMessage, keeps the sum of the handlers they
// have started (each pushes its count every 50 ms) and collects their start samples and counts.

const WORKER_ENTRY = fileURLToPath(new URL("./e2e-worker.ts", import.meta.url));
const STOP_GRACE_MS = 20_000;

export interface WorkerFleet {
  readonly pids: readonly number[];
  /** Handlers started so far by all workers, as last reported. */
  started(): number;
  /** Throws when a worker has failed or exited. */
  throwIfFailed(): void;
  /** The start samples every worker kept since the last collect. */
  collect(): Promise<StartSample[]>;
  /** Closes every worker gracefully and returns their final counts; safe to call twice. */
  stop(): Promise<readonly WorkerCounts[]>;
  /** SIGKILLs every worker, for when there is no time to stop them. */
  killNow(): void;
}

class WorkerProcess {
  started = 0;
  readonly exited: Promise<unknown>;
  private failure: string | undefined;
  private readonly waiters = new Map<WorkerMessage["type"], (message: WorkerMessage) => void>();
  readonly changed = new EventTarget();

  constructor(readonly child: ChildProcess, readonly label: string) {
    this.exited = once(child, "exit");
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "progress") this.started = message.started;
      if (message.type === "failed") this.failure = message.error;
      this.waiters.get(message.type)?.(message);
      this.waiters.delete(message.type);
      this.changed.dispatchEvent(new Event("change"));
    });
    void this.exited.then(() => this.changed.dispatchEvent(new Event("change")));
  }

  get gone(): string | undefined {
    if (this.failure !== undefined) return `${this.label} failed: ${this.failure}`;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return `${this.label} exited (${this.child.exitCode ?? this.child.signalCode})`;
    return undefined;
  }

  /** Sends `message` and waits for the reply of type `reply`; rejects if the worker fails or exits first. */
  async ask<T extends WorkerMessage["type"]>(message: object, reply: T): Promise<Extract<WorkerMessage, { type: T }>> {
    const answered = new Promise<WorkerMessage>((resolve) => this.waiters.set(reply, resolve));
    const failed = new Promise<never>((_, reject) => {
      const check = (): void => {
        const why = this.gone;
        if (why === undefined) return;
        this.changed.removeEventListener("change", check);
        reject(new Error(why));
      };
      this.changed.addEventListener("change", check);
      void answered.then(() => this.changed.removeEventListener("change", check));
    });
    failed.catch(() => undefined);
    if (this.gone !== undefined) throw new Error(this.gone);
    this.child.send(message);
    return (await Promise.race([answered, failed])) as Extract<WorkerMessage, { type: T }>;
  }
}

/** Forks `count` workers and starts worker i with `startMessage(i)`; stops them all if any fails to start. */
export async function startWorkerFleet(count: number, labelPrefix: string, startMessage: (index: number) => StartMessage): Promise<WorkerFleet> {
  const workers = Array.from(
    { length: count },
    (_, i) => new WorkerProcess(fork(WORKER_ENTRY, { stdio: ["ignore", "inherit", "inherit", "ipc"] }), `${labelPrefix}#${i + 1}`),
  );
  let stopping: Promise<readonly WorkerCounts[]> | undefined;
  const killNow = (): void => {
    for (const w of workers) w.child.kill("SIGKILL");
  };

  const stopOne = async (w: WorkerProcess): Promise<WorkerCounts | undefined> => {
    if (w.gone !== undefined) return undefined;
    const reply = await withinDeadline(w.ask({ type: "stop" }, "stopped").catch(() => undefined), STOP_GRACE_MS);
    if ((await withinDeadline(w.exited, 2_000)) === undefined) {
      w.child.kill("SIGKILL");
      await w.exited;
    }
    return reply?.counts;
  };

  const fleet: WorkerFleet = {
    pids: workers.map((w) => w.child.pid ?? -1),
    started: () => workers.reduce((sum, w) => sum + w.started, 0),
    throwIfFailed() {
      const why = workers.map((w) => w.gone).find((reason) => reason !== undefined);
      if (why !== undefined) throw new Error(why);
    },
    async collect() {
      const replies = await Promise.all(workers.map((w) => w.ask({ type: "collect" }, "collected")));
      return replies.flatMap((reply) => reply.samples);
    },
    stop: () =>
      (stopping ??= (async () => {
        const counts = await Promise.all(workers.map(stopOne));
        return counts.filter((c): c is WorkerCounts => c !== undefined);
      })()),
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
