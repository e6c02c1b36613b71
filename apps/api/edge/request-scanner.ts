import { isUtf8 } from "node:buffer";
import { InvalidArgument, JqError, LimitExceeded } from "../../../libs/errors/index.js";
import type { WireField, WireMessage } from "./wire-schema.js";

/** The caps the scanner applies; see docs/security.md ("Request limits"). */
export interface ScanLimits {
  /** Items of a repeated field (or entries of a map) in one message, by "Message.field", else `defaultItems`. */
  readonly itemsByField: ReadonlyMap<string, number>;
  readonly defaultItems: number;
  /** UTF-8 bytes of one string, by "Message.field", else `defaultStringBytes`. */
  readonly stringBytesByField: ReadonlyMap<string, number>;
  readonly defaultStringBytes: number;
  /** Fields the contract does not know, per message (skipped, but still work to skip). */
  readonly unknownFields: number;
  /**
   * Repeated message fields of a request ("Message.field") whose items are refused one by one: a
   * refused value inside one item refuses that item only (scanRequest returns it), so one bad
   * result of a batch does not fail the others. The field's own item cap still refuses the whole.
   */
  readonly isolatedItems?: ReadonlySet<string>;
}

/** The items of an isolated field refused by the scan, by index, with the error naming the field. */
export type RefusedItems = ReadonlyMap<number, JqError>;

const MAX_DEPTH = 32;
/** google.protobuf.Timestamp range (0001-01-01 … 9999-12-31), which Postgres and JS Dates hold. */
const TIMESTAMP_MIN_SECONDS = -62_135_596_800;
const TIMESTAMP_MAX_SECONDS = 253_402_300_799;
/** google.protobuf.Duration range (±10,000 years). */
const DURATION_MAX_SECONDS = 315_576_000_000;
const PACKABLE_FIXED: Readonly<Record<string, number>> = { TYPE_FIXED32: 4, TYPE_SFIXED32: 4, TYPE_FLOAT: 4, TYPE_FIXED64: 8, TYPE_SFIXED64: 8, TYPE_DOUBLE: 8 };

/** The wire is not protobuf at all; the caller answers it as an undecodable message. */
export class WireError extends Error {}

/**
 * Walks a request's protobuf bytes before anything is decoded (issue 13 items 4–6), so that a
 * hostile message is refused for the cost of reading it once, without allocating per item:
 *
 * - every repeated field and map has a cap per message (decode amplification: millions of empty
 *   entries in a few MiB would otherwise become millions of objects) → RESOURCE_EXHAUSTED;
 * - every string is valid UTF-8 without NUL (Postgres cannot store either) and within its byte
 *   cap → INVALID_ARGUMENT / RESOURCE_EXHAUSTED;
 * - every Timestamp and Duration has nanos in [0, 1e9) and seconds in the protobuf range;
 * - no map key is `__proto__`, which a plain-object map cannot hold (it would be dropped).
 *
 * Errors name the field by its proto path, e.g. `jobs[2].metadata["k"]`.
 */
export function scanRequest(bytes: Uint8Array, type: WireMessage, limits: ScanLimits): RefusedItems | undefined {
  // Most requests have no isolated field: no collector for them (the single-submit path is hot).
  const refused = hasIsolatedField(type, limits) ? new Map<number, JqError>() : undefined;
  scanMessage(bytes, 0, bytes.length, type, "", limits, 0, refused);
  return refused?.size ? refused : undefined;
}

/** Whether `limits.isolatedItems` names a field of `type` (a small set, read without allocating: this runs per request). */
function hasIsolatedField(type: WireMessage, limits: ScanLimits): boolean {
  if (!limits.isolatedItems) return false;
  const prefix = type.fullName.length;
  for (const name of limits.isolatedItems) {
    // "Message.field": this type's full name, a dot, and a field name (which holds no dot).
    if (name.startsWith(type.fullName) && name[prefix] === "." && !name.includes(".", prefix + 1)) return true;
  }
  return false;
}

/**
 * The items of `fieldNumber` in a message's top level, counted without looking inside them (for
 * deciding whether a refused message is still safe to decode); a broken wire throws WireError.
 */
export function countTopLevel(bytes: Uint8Array, fieldNumber: number): number {
  const r = { pos: 0 };
  let n = 0;
  while (r.pos < bytes.length) {
    const tag = readVarint(bytes, r, bytes.length);
    if (Math.floor(tag / 8) === fieldNumber) n++;
    skipValue(bytes, r, bytes.length, tag % 8);
  }
  return n;
}

function scanMessage(
  buf: Uint8Array,
  start: number,
  end: number,
  type: WireMessage,
  path: string,
  limits: ScanLimits,
  depth: number,
  refused?: Map<number, JqError>,
): void {
  if (depth > MAX_DEPTH) throw new InvalidArgument(path || "request", `nests deeper than ${MAX_DEPTH} messages`);
  if (type.fullName === "google.protobuf.Timestamp" || type.fullName === "google.protobuf.Duration") return checkTime(buf, start, end, type.fullName, path);
  const counts = new Map<number, number>();
  let unknown = 0;
  const r = { pos: start };
  while (r.pos < end) {
    const tag = readVarint(buf, r, end);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    let valueStart = r.pos;
    let valueEnd = r.pos;
    if (wireType === 0) readVarint(buf, r, end);
    else if (wireType === 1) r.pos += 8;
    else if (wireType === 5) r.pos += 4;
    else if (wireType === 2) {
      const length = readVarint(buf, r, end);
      valueStart = r.pos;
      valueEnd = r.pos + length;
      r.pos = valueEnd;
    } else throw new WireError(`wire type ${wireType} is not supported`);
    if (r.pos > end) throw new WireError("truncated message");
    const field = type.fields.get(number);
    if (!field) {
      if (++unknown > limits.unknownFields) throw new InvalidArgument(path || "request", `carries more than ${limits.unknownFields} unknown fields`);
      continue;
    }
    const name = `${path}${path ? "." : ""}${field.name}`;
    let index = 0;
    if (field.repeated) {
      const before = counts.get(number) ?? 0;
      const added = wireType === 2 && field.type !== "TYPE_MESSAGE" && field.type !== "TYPE_STRING" && field.type !== "TYPE_BYTES" ? packedCount(buf, valueStart, valueEnd, field.type) : 1;
      counts.set(number, before + added);
      const cap = limits.itemsByField.get(`${type.fullName}.${field.name}`) ?? limits.defaultItems;
      if (before + added > cap) throw new LimitExceeded(name, cap, before + added, field.message?.mapEntry ? "entries" : field.name === "jobs" ? "jobs" : "items");
      index = before;
    }
    if (wireType !== 2) continue;
    if (field.type === "TYPE_STRING") checkText(buf, valueStart, valueEnd, `${type.fullName}.${field.name}`, field.repeated ? `${name}[${index}]` : name, limits);
    else if (field.type === "TYPE_MESSAGE" && field.message) {
      if (field.message.mapEntry) checkMapEntry(buf, valueStart, valueEnd, field, name, limits);
      else if (refused && field.repeated && limits.isolatedItems?.has(`${type.fullName}.${field.name}`)) {
        try {
          scanMessage(buf, valueStart, valueEnd, field.message, `${name}[${index}]`, limits, depth + 1);
        } catch (err) {
          if (!(err instanceof JqError)) throw err;
          refused.set(index, err);
        }
      } else scanMessage(buf, valueStart, valueEnd, field.message, field.repeated ? `${name}[${index}]` : name, limits, depth + 1);
    }
  }
}

function checkMapEntry(buf: Uint8Array, start: number, end: number, field: WireField, name: string, limits: ScanLimits): void {
  const entry = field.message!;
  let key = "";
  const r = { pos: start };
  // First pass: the key, to name the entry in errors.
  while (r.pos < end) {
    const tag = readVarint(buf, r, end);
    if (tag % 8 !== 2) {
      skipValue(buf, r, end, tag % 8);
      continue;
    }
    const length = readVarint(buf, r, end);
    if (Math.floor(tag / 8) === 1 && entry.fields.get(1)?.type === "TYPE_STRING") {
      checkText(buf, r.pos, r.pos + length, `${entry.fullName}.key`, `${name} key`, limits);
      key = Buffer.from(buf.buffer, buf.byteOffset + r.pos, length).toString("utf8");
    }
    r.pos += length;
  }
  if (key === "__proto__") throw new InvalidArgument(`${name}["__proto__"]`, "the key __proto__ is reserved");
  scanMessage(buf, start, end, entry, `${name}[${JSON.stringify(key)}]`, limits, 1);
}

function checkText(buf: Uint8Array, start: number, end: number, qualified: string, name: string, limits: ScanLimits): void {
  const cap = limits.stringBytesByField.get(qualified) ?? limits.defaultStringBytes;
  if (end - start > cap) throw new LimitExceeded(name, cap, end - start, "bytes");
  const view = buf.subarray(start, end);
  if (view.indexOf(0) !== -1) throw new InvalidArgument(name, "contains a NUL character");
  if (!isUtf8(view)) throw new InvalidArgument(name, "is not valid UTF-8");
}

function checkTime(buf: Uint8Array, start: number, end: number, fullName: string, name: string): void {
  let seconds = 0;
  let nanos = 0;
  const r = { pos: start };
  while (r.pos < end) {
    const tag = readVarint(buf, r, end);
    if (tag === 8) seconds = readSignedVarint(buf, r, end);
    else if (tag === 16) nanos = readSignedVarint(buf, r, end);
    else skipValue(buf, r, end, tag % 8);
  }
  if (!(nanos >= 0 && nanos < 1e9)) throw new InvalidArgument(`${name}.nanos`, `must be in [0, 999999999], got ${nanos}`);
  const [min, max] = fullName.endsWith("Timestamp") ? [TIMESTAMP_MIN_SECONDS, TIMESTAMP_MAX_SECONDS] : [-DURATION_MAX_SECONDS, DURATION_MAX_SECONDS];
  if (seconds < min || seconds > max) throw new InvalidArgument(`${name}.seconds`, `must be in [${min}, ${max}], got ${seconds}`);
}

function packedCount(buf: Uint8Array, start: number, end: number, type: string): number {
  const fixed = PACKABLE_FIXED[type];
  if (fixed !== undefined) return Math.ceil((end - start) / fixed);
  let n = 0;
  for (let i = start; i < end; i++) if (buf[i]! < 0x80) n++;
  return n;
}

function skipValue(buf: Uint8Array, r: { pos: number }, end: number, wireType: number): void {
  if (wireType === 0) readVarint(buf, r, end);
  else if (wireType === 1) r.pos += 8;
  else if (wireType === 5) r.pos += 4;
  else if (wireType === 2) {
    // Not `r.pos += readVarint(…)`: that adds the length to the position before the length's bytes.
    const length = readVarint(buf, r, end);
    r.pos += length;
  } else throw new WireError(`wire type ${wireType} is not supported`);
  if (r.pos > end) throw new WireError("truncated message");
}

/** An unsigned varint of up to 10 bytes as a double (exact below 2^53, close enough above). */
function readVarint(buf: Uint8Array, r: { pos: number }, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= end) throw new WireError("truncated varint");
    const b = buf[r.pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  throw new WireError("varint longer than 10 bytes");
}

/** An int64/int32 varint (negative ones take 10 bytes), exactly, as a number. */
function readSignedVarint(buf: Uint8Array, r: { pos: number }, end: number): number {
  let value = 0n;
  for (let i = 0n; i < 10n; i++) {
    if (r.pos >= end) throw new WireError("truncated varint");
    const b = buf[r.pos++]!;
    value |= BigInt(b & 0x7f) << (7n * i);
    if (b < 0x80) return Number(BigInt.asIntN(64, value));
  }
  throw new WireError("varint longer than 10 bytes");
}
