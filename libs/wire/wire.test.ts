import { describe, expect, it } from "vitest";
import { InvalidArgument } from "../errors/index.js";
import { JobStatus, NodeRole, TransitionReason, WorkerStatus } from "../proto/index.js";
import {
  durationToMs,
  durationToWholeMs,
  durationToWholeSeconds,
  positiveDurationMs,
  reasonFromProto,
  statusFromProto,
  workerStatusFromProto,
} from "./from-wire.js";
import { clusterNodeToProto, msToDuration, reasonToProto, statusToProto } from "./to-wire.js";

describe("durations", () => {
  it("round-trip whole and fractional milliseconds", () => {
    for (const ms of [0, 1, 999, 1_000, 1_500, 61_250, 2_147_483_647]) expect(durationToMs(msToDuration(ms), "d")).toBe(ms);
    expect(msToDuration(1_500)).toEqual({ seconds: "1", nanos: 500_000_000 });
    expect(msToDuration(0.5)).toEqual({ seconds: "0", nanos: 500_000 });
  });
  it("refuse what a request may not carry, naming the field", () => {
    expect(() => durationToMs({ seconds: "-1", nanos: 0 }, "timeout")).toThrow(/^timeout: must not be negative/);
    expect(() => durationToMs({ seconds: "x", nanos: 0 }, "timeout")).toThrow(InvalidArgument);
    expect(() => durationToWholeSeconds({ seconds: "1", nanos: 5 }, "ttl")).toThrow(/whole number of seconds/);
    expect(() => durationToWholeSeconds({ seconds: "0", nanos: 0 }, "ttl")).toThrow(/must be positive/);
    expect(durationToWholeSeconds({ seconds: "0", nanos: 0 }, "retention", true)).toBe(0);
    expect(() => durationToWholeMs({ seconds: "0", nanos: 500 }, "backoff_base")).toThrow(/whole number of milliseconds/);
  });
  it("read a server's interval leniently in the SDK", () => {
    expect(positiveDurationMs(undefined)).toBeUndefined();
    expect(positiveDurationMs({ seconds: "0", nanos: 0 })).toBeUndefined();
    expect(positiveDurationMs({ seconds: "-2", nanos: 0 })).toBeUndefined();
    expect(positiveDurationMs({ seconds: "nope", nanos: 0 })).toBeUndefined();
    expect(positiveDurationMs({ seconds: "2", nanos: 500_000_000 })).toBe(2_500);
  });
});

describe("enums", () => {
  it("map by name in both directions", () => {
    expect(statusFromProto(statusToProto("DEAD_LETTERED"), "status")).toBe("DEAD_LETTERED");
    expect(reasonFromProto(reasonToProto("RETRIED_MANUALLY"), "reason")).toBe("RETRIED_MANUALLY");
    expect(workerStatusFromProto(WorkerStatus.DRAINING, "status")).toBe("DRAINING");
  });
  it("refuse UNSPECIFIED and unknown numbers, naming the field", () => {
    expect(() => statusFromProto(JobStatus.UNSPECIFIED, "statuses[0]")).toThrow(/^statuses\[0\]: is not a job status/);
    expect(() => reasonFromProto(999 as TransitionReason, "reasons[1]")).toThrow(/^reasons\[1\]: is not a transition reason \(got 999\)/);
    expect(() => workerStatusFromProto(WorkerStatus.UNSPECIFIED, "statuses[2]")).toThrow(/is not a worker status/);
  });
  it("maps a node's role", () => {
    const at = new Date(0);
    const node = { nodeId: "n", role: "scheduler", version: "1", hostname: "h", leader: true, alive: true, startedAt: at, lastSeenAt: at } as const;
    expect(clusterNodeToProto(node)).toEqual({ ...node, role: NodeRole.SCHEDULER });
  });
});
