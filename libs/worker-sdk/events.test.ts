import { describe, expect, it } from "vitest";
import { ResultAckCode, type JobResult } from "../proto/index.js";
import { outcomeOfAck } from "./events.js";

const success: JobResult = { jobId: "j", attempt: 1, outcome: { $case: "success", value: { result: Buffer.alloc(0) } } };
const failure: JobResult = { jobId: "j", attempt: 1, outcome: { $case: "failure", value: { message: "boom" } } };

describe("outcomeOfAck", () => {
  it("records the outcome carried by an ACCEPTED result", () => {
    expect(outcomeOfAck(success, ResultAckCode.ACCEPTED)).toBe("succeeded");
    expect(outcomeOfAck(failure, ResultAckCode.ACCEPTED)).toBe("failed");
  });

  it("counts STALE and NOT_FOUND as stale: nothing was recorded", () => {
    expect(outcomeOfAck(success, ResultAckCode.STALE)).toBe("stale");
    expect(outcomeOfAck(failure, ResultAckCode.NOT_FOUND)).toBe("stale");
  });

  it("treats INVALID, UNSPECIFIED and unknown codes as invalid", () => {
    expect(outcomeOfAck(success, ResultAckCode.INVALID)).toBe("invalid");
    expect(outcomeOfAck(success, ResultAckCode.UNSPECIFIED)).toBe("invalid");
    expect(outcomeOfAck(success, ResultAckCode.UNRECOGNIZED)).toBe("invalid");
    expect(outcomeOfAck(success, 42 as ResultAckCode)).toBe("invalid");
  });
});
