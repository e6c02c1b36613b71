import { describe, expect, it } from "vitest";
import { hexDump, previewBytes } from "./payload-preview.js";

describe("payload preview", () => {
  it("shows text as text and JSON pretty-printed, with the size", () => {
    expect(previewBytes(Buffer.from("hello\nworld"))).toEqual({ size: 11, truncated: false, kind: "text", text: "hello\nworld" });
    expect(previewBytes(Buffer.from('{"to":"a@b.c","n":[1,2]}'))).toEqual({
      size: 24,
      truncated: false,
      kind: "json",
      text: '{\n  "to": "a@b.c",\n  "n": [\n    1,\n    2\n  ]\n}',
    });
    expect(previewBytes(Buffer.alloc(0))).toEqual({ size: 0, truncated: false, kind: "empty", text: "" });
  });

  it("shows binary bytes as a hex dump", () => {
    const p = previewBytes(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x41]));
    expect(p.kind).toBe("hex");
    expect(p.text).toBe(`00000000  de ad be ef 00 41${" ".repeat(6 + 2 + 23 + 2)}|.....A|`);
    // Control characters make text binary too; tab and newlines do not.
    expect(previewBytes(Buffer.from("a\u0001b")).kind).toBe("hex");
    expect(previewBytes(Buffer.from("a\tb\r\n")).kind).toBe("text");
  });

  it("caps the preview and says so, without splitting a character into hex", () => {
    const long = Buffer.from("é".repeat(10)); // 20 bytes, 2 per character
    const p = previewBytes(long, 5); // cuts the third character in half
    expect(p).toEqual({ size: 20, truncated: true, kind: "text", text: "éé" });
    // A cut JSON document is shown as text, not re-formatted.
    expect(previewBytes(Buffer.from('{"a": 1, "b": 2}'), 6)).toEqual({ size: 16, truncated: true, kind: "text", text: '{"a": ' });
  });

  it("dumps 16 bytes a line with offsets", () => {
    const lines = hexDump(Buffer.from("0123456789abcdefXYZ")).split("\n");
    expect(lines).toEqual([
      "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|",
      "00000010  58 59 5a                                          |XYZ|",
    ]);
  });
});
