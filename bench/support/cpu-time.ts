import fs from "node:fs";

// CPU time (user + system, all threads) of the processes a phase exercises, read from /proc so
// the bench can say where the machine's cores went: the bench itself, the server under test, or
// Postgres. Linux only.

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly parentPid: number;
  /** utime + stime of the process itself. */
  readonly ownSeconds: number;
  /** cutime + cstime: what its children used before they exited and were reaped. */
  readonly reapedChildrenSeconds: number;
}

function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // Gone.
  }
  // The command name (field 2) is in parentheses and may hold spaces; the rest is space-separated.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = (field: number): number => Number(fields[field - 3]);
  return {
    parentPid: ticks(4),
    ownSeconds: (ticks(14) + ticks(15)) / CLOCK_TICKS_PER_SECOND,
    reapedChildrenSeconds: (ticks(16) + ticks(17)) / CLOCK_TICKS_PER_SECOND,
  };
}

/** CPU seconds a live process has used so far; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  return readProcStat(pid)?.ownSeconds ?? 0;
}

/** The parent of a process, e.g. the postmaster of a Postgres backend. */
export function parentPidOf(pid: number): number {
  const stat = readProcStat(pid);
  if (stat === undefined) throw new Error(`no process ${pid}`);
  return stat.parentPid;
}

/**
 * CPU seconds of a server that forks a process per connection (the Postgres postmaster): the
 * parent, its children that have exited, and its live children.
 */
export function processFamilyCpuSeconds(parentPid: number): number {
  const parent = readProcStat(parentPid);
  if (parent === undefined) return 0;
  let total = parent.ownSeconds + parent.reapedChildrenSeconds;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const child = readProcStat(Number(entry));
    if (child?.parentPid === parentPid) total += child.ownSeconds;
  }
  return total;
}

/** CPU seconds this process has used so far. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
