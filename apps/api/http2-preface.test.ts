import { describe, expect, it } from "vitest";
import { clientPreface } from "./http2-preface.js";

const magic = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const settings = (payload: number[], type = 4) => Buffer.from([0, 0, payload.length, type, 0, 0, 0, 0, 0, ...payload]);

describe("clientPreface", () => {
  it("is complete with the magic and a whole SETTINGS frame, empty or not, whatever follows", () => {
    expect(clientPreface(Buffer.concat([magic, settings([])]))).toBe("complete");
    expect(clientPreface(Buffer.concat([magic, settings([0, 3, 0, 0, 0, 100]), Buffer.from([1, 2, 3])]))).toBe("complete");
  });

  it("is incomplete for every prefix of a preface, byte by byte", () => {
    const whole = Buffer.concat([magic, settings([0, 3, 0, 0, 0, 100])]);
    for (let n = 0; n < whole.length; n++) expect(clientPreface(whole.subarray(0, n)), `${n} bytes`).toBe("incomplete");
  });

  it("is invalid for bytes that cannot start a preface: other protocols, a first frame that is not SETTINGS, an oversized frame", () => {
    expect(clientPreface(Buffer.from("GET / HTTP/1.1\r\n"))).toBe("invalid");
    expect(clientPreface(Buffer.from([0x16, 0x03, 0x01]))).toBe("invalid");
    expect(clientPreface(Buffer.concat([magic, settings([], 6)]))).toBe("invalid");
    expect(clientPreface(Buffer.concat([magic, Buffer.from([0x01, 0x00, 0x00, 4, 0, 0, 0, 0, 0])]))).toBe("invalid");
  });
});
