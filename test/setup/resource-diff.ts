// Pure arithmetic over Node's active-resource names (`process.getActiveResourcesInfo()` returns
// one string per ref'd handle, request or timer, e.g. "TCPSocketWrap" or "Timeout"). Counts per
// name are what can be compared between two moments; the names carry no identity.

export type ResourceCounts = Readonly<Record<string, number>>;

/** What each kind usually is in this project, to point a reader at the culprit. */
const HINTS: Readonly<Record<string, string>> = {
  TCPSocketWrap: "TCP connection: a pg pool/client, ioredis client, Kafka producer/consumer/admin or gRPC channel",
  TCPServerWrap: "listening TCP server",
  PipeWrap: "pipe or unix socket",
  PipeServerWrap: "listening unix socket server",
  Timeout: "setTimeout/setInterval not cleared",
  Immediate: "setImmediate not run",
  ProcessWrap: "child process",
  FSReqCallback: "file system call in flight",
  GetAddrInfoReqWrap: "DNS lookup in flight",
  MessagePort: "worker thread or MessageChannel",
  UDPWrap: "UDP socket",
  SignalWrap: "process.on(signal) listener",
};

export function countResources(names: Iterable<string>): ResourceCounts {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Per kind, the smaller count: a baseline free of things that only existed in one sample. */
export function minimumCounts(a: ResourceCounts, b: ResourceCounts): ResourceCounts {
  const result: Record<string, number> = {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const smaller = Math.min(a[name] ?? 0, b[name] ?? 0);
    if (smaller > 0) result[name] = smaller;
  }
  return result;
}

/** The kinds `current` holds more of than `baseline`, and how many more. Fewer is not a leak. */
export function excessResources(baseline: ResourceCounts, current: ResourceCounts): ResourceCounts {
  const result: Record<string, number> = {};
  for (const [name, count] of Object.entries(current)) {
    const excess = count - (baseline[name] ?? 0);
    if (excess > 0) result[name] = excess;
  }
  return result;
}

export function hasResources(counts: ResourceCounts): boolean {
  return Object.values(counts).some((count) => count > 0);
}

/** "2 × TCPSocketWrap (TCP connection: …), 1 × Timeout (…)", largest first, then by name. */
export function describeResources(counts: ResourceCounts): string {
  return Object.entries(counts)
    .filter(([, count]) => count > 0)
    .sort(([nameA, a], [nameB, b]) => b - a || nameA.localeCompare(nameB))
    .map(([name, count]) => {
      const hint = HINTS[name];
      return `${count} × ${name}${hint === undefined ? "" : ` (${hint})`}`;
    })
    .join(", ");
}
