import { describe, expect, it } from "vitest";
import { NonRetryableError } from "./errors.js";
import { failureOf, failureResult, MAX_FAILURE_MESSAGE_CHARS, resultBytes, successResult, truncate } from "./result-encoding.js";

const ref = { jobId: "0190a5a0-0000-7000-8000-000000000001", attempt: 3 };

describe("resultBytes", () => {
  it("keeps bytes, encodes strings as UTF-8 and nothing as empty", () => {
    const buf = Buffer.from([1, 2, 3]);
    expect(resultBytes(buf)).toBe(buf);
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    expect([...resultBytes(view)]).toEqual([8, 7]);
    expect(resultBytes("héllo").toString("utf8")).toBe("héllo");
    expect(resultBytes(undefined)).toHaveLength(0);
    expect(resultBytes(null)).toHaveLength(0);
  });

  it("refuses anything else, naming what it got", () => {
    expect(() => resultBytes(42)).toThrow(/returned a number/);
    expect(() => resultBytes({ a: 1 })).toThrow(/returned an object \(Object\)/);
  });
});

describe("failureOf", () => {
  it("leaves retryable absent for an ordinary error", () => {
    expect(failureOf(new Error("boom"))).toEqual({ message: "boom" });
    expect("retryable" in failureOf(new Error("boom"))).toBe(false);
  });

  it("sets retryable=false for NonRetryableError or any error that says so", () => {
    expect(failureOf(new NonRetryableError("bad input"))).toEqual({ message: "bad input", retryable: false });
    expect(failureOf(Object.assign(new Error("nope"), { retryable: false }))).toEqual({ message: "nope", retryable: false });
    expect(failureOf(Object.assign(new Error("maybe"), { retryable: true }))).toEqual({ message: "maybe" });
  });

  it("uses the name of an error without message, and strings for thrown non-errors", () => {
    expect(failureOf(new TypeError()).message).toBe("TypeError");
    expect(failureOf("plain string").message).toBe("plain string");
    expect(failureOf(17).message).toBe("17");
  });

  it("cuts the message to 4096 characters", () => {
    expect(failureOf(new Error("x".repeat(10_000))).message).toHaveLength(MAX_FAILURE_MESSAGE_CHARS);
  });
});

describe("truncate", () => {
  it("never splits a surrogate pair", () => {
    const text = "a".repeat(4095) + "😀" + "b";
    const cut = truncate(text, 4096);
    expect(cut).toBe("a".repeat(4095));
    expect(truncate("a😀", 3)).toBe("a😀");
    expect(truncate("short", 4096)).toBe("short");
  });
});

describe("JobResult builders", () => {
  it("quote the job and attempt", () => {
    expect(successResult(ref, "ok")).toEqual({ ...ref, outcome: { $case: "success", value: { result: Buffer.from("ok") } } });
    expect(failureResult(ref, new NonRetryableError("no"))).toEqual({ ...ref, outcome: { $case: "failure", value: { message: "no", retryable: false } } });
  });
});
