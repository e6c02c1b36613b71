import fs from "node:fs";

// How long a process was ready to run but waited for a CPU, from /proc/<pid>/schedstat (its
// second field: nanoseconds spent on a run queue). On a machine shared with other people's work,
// a process whose CPU time is well under one core but whose wait is high is not idle: it is
// starved, and everything it serves waits with it. Main thread only (the event loop, for Node).
// Linux only, and 0 where the kernel keeps no schedstats.

function waitNs(pid: number): number {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]);
  } catch {
    return 0; // Gone.
  }
}

/** Seconds the process has waited for a CPU so far. */
export function runQueueWaitSeconds(pid: number): number {
  return waitNs(pid) / 1e9;
}

/** The same for every live child of `parentPid` (Postgres' backends) and the parent itself. */
export function familyRunQueueWaitSeconds(parentPid: number): number {
  let total = waitNs(parentPid);
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === parentPid) total += waitNs(Number(entry));
  }
  return total / 1e9;
}
