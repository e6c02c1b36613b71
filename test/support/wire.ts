/**
 * Hand-built protobuf wire bytes, for requests no typed client would send (a NUL inside a string,
 * invalid UTF-8, nanos out of range, millions of empty entries).
 */
export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

/** A varint field. */
export function vfield(field: number, n: number | bigint): Buffer {
  return Buffer.concat([varint(field * 8), varint(n)]);
}

/** A length-delimited field (string, bytes or a sub-message's parts). */
export function lfield(field: number, ...parts: (Buffer | string)[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
  return Buffer.concat([varint(field * 8 + 2), varint(body.length), body]);
}

/** A map<string,string> entry as field `field`. */
export function entry(field: number, key: string | Buffer, value: string | Buffer): Buffer {
  return lfield(field, lfield(1, key), lfield(2, value));
}
