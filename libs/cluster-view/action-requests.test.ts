import { describe, expect, it } from "vitest";
import { InvalidArgument, LimitExceeded } from "../errors/index.js";
import { cancelRequest, deadLetterRequest, jobRequest, queueRequest, workerRequest } from "./action-requests.js";

const ID = "0190f5b2-7c1a-7d3e-8f00-123456789abc";

describe("dashboard action bodies", () => {
  it("accepts well-formed bodies and normalises ids", () => {
    expect(queueRequest({ queue: "emails" })).toEqual({ queue: "emails" });
    expect(jobRequest({ jobId: ID.toUpperCase() })).toEqual({ jobId: ID });
    expect(cancelRequest({ jobId: ID })).toEqual({ jobId: ID, message: null });
    expect(cancelRequest({ jobId: ID, message: "stop" })).toEqual({ jobId: ID, message: "stop" });
    expect(workerRequest({ workerId: ID })).toEqual({ workerId: ID });
    expect(deadLetterRequest({ queue: "q", all: true })).toEqual({ queue: "q", jobIds: [] });
    expect(deadLetterRequest({ queue: "q", jobIds: [ID] })).toEqual({ queue: "q", jobIds: [ID] });
  });

  it("names the field of a bad value", () => {
    expect(() => queueRequest({})).toThrow(InvalidArgument);
    expect(() => queueRequest({})).toThrow(/^queue: /);
    expect(() => queueRequest({ queue: 7 })).toThrow(/^queue: /);
    expect(() => queueRequest({ queue: "no spaces" })).toThrow("queue: must match");
    expect(() => queueRequest({ queue: "" })).toThrow("queue: is required");
    expect(() => jobRequest({ jobId: "42" })).toThrow('jobId: must be a UUID, got "42"');
    expect(() => deadLetterRequest({ queue: "q", jobIds: [ID, "x"] })).toThrow("jobIds[1]: must be a UUID");
  });

  it("refuses unknown fields", () => {
    expect(() => queueRequest({ queue: "q", force: true })).toThrow("body: has unknown field(s): force");
  });

  it("makes a bulk dead-letter action explicit", () => {
    expect(() => deadLetterRequest({ queue: "q" })).toThrow("jobIds: must name at least one job, or send all: true");
    expect(() => deadLetterRequest({ queue: "q", jobIds: [] })).toThrow(/^jobIds: /);
    expect(() => deadLetterRequest({ queue: "q", all: true, jobIds: [ID] })).toThrow("all: cannot be combined with jobIds");
    expect(() => deadLetterRequest({ queue: "q", jobIds: Array.from({ length: 1001 }, () => ID) })).toThrow(LimitExceeded);
  });

  it("caps a cancel message like CancelJob", () => {
    expect(() => cancelRequest({ jobId: ID, message: "x".repeat(1025) })).toThrow("message: 1025 characters exceeds the limit of 1024 characters");
  });
});
