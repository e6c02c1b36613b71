import { describe, expect, it } from "vitest";
import type { ClaimedJob } from "../../../libs/dispatch/index.js";
import { assignmentBatching, assignmentMessages, ONE_PER_MESSAGE } from "./assignment-messages.js";

const job = (id: string, payloadBytes = 10): ClaimedJob => ({
  id,
  queue: "q",
  attempt: 1,
  payload: Buffer.alloc(payloadBytes),
  metadata: {},
  priority: 0,
  createdAt: new Date(0),
  retryCount: 0,
  maxRetries: 3,
  timeoutSeconds: 30,
});

describe("assignmentBatching", () => {
  it("keeps one per message unless the stream asked for more, and caps what it asked", () => {
    const req = (n: number) => ({ workerId: "w", maxAssignmentsPerMessage: n });
    expect(assignmentBatching(req(0), 16 << 20)).toBe(ONE_PER_MESSAGE);
    expect(assignmentBatching(req(1), 16 << 20)).toBe(ONE_PER_MESSAGE);
    expect(assignmentBatching(req(50), 16 << 20)).toEqual({ maxItems: 50, maxBytes: 1 << 20 });
    expect(assignmentBatching(req(5000), 64 * 1024)).toEqual({ maxItems: 1000, maxBytes: 32 * 1024 });
  });
});

describe("assignmentMessages", () => {
  const claimedAt = 1_000_000;

  it("sends each job alone to a stream that did not ask, with the deadline counted from the claim", () => {
    const messages = assignmentMessages([job("a"), job("b")], claimedAt, ONE_PER_MESSAGE);
    expect(messages.map((m) => m.message.kind?.$case)).toEqual(["assignment", "assignment"]);
    expect(messages.map((m) => m.jobs.map((j) => j.id))).toEqual([["a"], ["b"]]);
    const first = messages[0]!.message.kind;
    expect(first?.$case === "assignment" && first.value.deadline).toEqual(new Date(claimedAt + 30_000));
  });

  it("puts the jobs of a claim together, in order, within the count and byte limits; a big job alone", () => {
    const jobs = [job("a"), job("b"), job("c"), job("big", 5000), job("d")];
    const messages = assignmentMessages(jobs, claimedAt, { maxItems: 2, maxBytes: 1000 });
    expect(messages.map((m) => m.jobs.map((j) => j.id))).toEqual([["a", "b"], ["c"], ["big"], ["d"]]);
    for (const m of messages) {
      const kind = m.message.kind;
      expect(kind?.$case).toBe("assignments");
      expect(kind?.$case === "assignments" && kind.value.assignments.map((a) => a.jobId)).toEqual(m.jobs.map((j) => j.id));
    }
  });
});
