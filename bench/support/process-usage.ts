import { ownCpuSeconds, processCpuSeconds, processFamilyCpuSeconds } from "./cpu-time.js";
import { familyRunQueueWaitSeconds, runQueueWaitSeconds } from "./run-queue-wait.js";

// CPU used, and time spent ready to run but waiting for a CPU, by every process of a phase: the
// bench itself, the system's processes by label, and Postgres (all its processes), read at the
// phase's start and end.

export interface LabelledProcess {
  readonly label: string;
  readonly pid: number;
}

/** Seconds so far, by label: `bench`, each process' label, `postgres`. */
export type UsageReading = Readonly<Record<string, number>>;

export interface ProcessUsage {
  readonly cpu: UsageReading;
  readonly waitingForCpu: UsageReading;
}

export function readProcessUsage(processes: readonly LabelledProcess[], postmasterPid: number): ProcessUsage {
  const cpu: Record<string, number> = { bench: ownCpuSeconds() };
  const waitingForCpu: Record<string, number> = { bench: runQueueWaitSeconds(process.pid) };
  for (const p of processes) {
    cpu[p.label] = processCpuSeconds(p.pid);
    waitingForCpu[p.label] = runQueueWaitSeconds(p.pid);
  }
  cpu.postgres = processFamilyCpuSeconds(postmasterPid);
  waitingForCpu.postgres = familyRunQueueWaitSeconds(postmasterPid);
  return { cpu, waitingForCpu };
}

export const usedBetween = (before: UsageReading, after: UsageReading): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([label, seconds]) => [label, seconds - (before[label] ?? 0)]));

/** Every figure divided by `divisor` (jobs in thousands, or wall seconds), plus their `total`. */
export function perUnit(used: UsageReading, divisor: number): Record<string, number> {
  const out = Object.fromEntries(Object.entries(used).map(([label, seconds]) => [label, seconds / divisor]));
  out.total = Object.values(used).reduce((sum, s) => sum + s, 0) / divisor;
  return out;
}
