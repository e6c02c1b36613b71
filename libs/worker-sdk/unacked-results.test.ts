import { describe, expect, it } from "vitest";
import { UnackedResults } from "./unacked-results.js";

describe("UnackedResults", () => {
  it("numbers results per stream and ends each on its ack, in any order", () => {
    const book = new UnackedResults<string>();
    book.startStream();
    for (const r of ["a", "b", "c"]) book.add(r);
    expect(["a", "b", "c"].map((r) => book.assignSequence(r))).toEqual(["1", "2", "3"]);
    expect(book.acknowledge("2")).toBe("b");
    expect(book.acknowledge("2")).toBeUndefined(); // a repeated ack
    expect(book.acknowledge("99")).toBeUndefined();
    expect([...book.items()]).toEqual(["a", "c"]);
    expect(book.size).toBe(2);
  });

  it("resends every unacknowledged result on a new stream with new sequences", () => {
    const book = new UnackedResults<string>();
    book.add("a");
    book.add("b");
    book.assignSequence("a");
    book.assignSequence("b");
    book.add("c"); // reported while the stream was down: never sent
    expect(book.acknowledge("1")).toBe("a");

    const resend = book.startStream();
    expect(resend).toEqual(["b", "c"]);
    expect(resend.map((r) => book.assignSequence(r))).toEqual(["1", "2"]);
    // An old stream's sequence means nothing on the new one.
    expect(book.acknowledge("3")).toBeUndefined();
    expect(book.acknowledge("2")).toBe("c");
    expect(book.acknowledge("1")).toBe("b");
    expect(book.size).toBe(0);
  });

  it("refuses to number a result twice on one stream or one it does not hold", () => {
    const book = new UnackedResults<string>();
    book.add("a");
    book.assignSequence("a");
    expect(() => book.assignSequence("a")).toThrow(/already sent/);
    expect(() => book.assignSequence("z")).toThrow(/not in the book/);
  });
});
