/** The fixed start of every HTTP/2 client connection (RFC 9113 §3.4). */
export const HTTP2_MAGIC = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const FRAME_HEADER_BYTES = 9;
const SETTINGS_FRAME = 0x4;
/** The largest frame a peer may send before SETTINGS change it (SETTINGS_MAX_FRAME_SIZE's default). */
const DEFAULT_MAX_FRAME = 16_384;

/**
 * How much of an HTTP/2 client preface — the magic, then a SETTINGS frame — `received` holds
 * (pure; apps/api/connection-gate.ts reads it, decrypted under TLS, before handing the socket to
 * grpc-js): "complete" once both are there, "incomplete" while a prefix of them, "invalid" when
 * the bytes cannot be a preface (grpc-js then refuses the connection itself, as it would have
 * anyway).
 */
export function clientPreface(received: Buffer): "complete" | "incomplete" | "invalid" {
  const magic = received.subarray(0, HTTP2_MAGIC.length);
  if (!magic.equals(HTTP2_MAGIC.subarray(0, magic.length))) return "invalid";
  if (received.length < HTTP2_MAGIC.length + FRAME_HEADER_BYTES) return "incomplete";
  const header = received.subarray(HTTP2_MAGIC.length, HTTP2_MAGIC.length + FRAME_HEADER_BYTES);
  const length = header.readUIntBE(0, 3);
  if (header[3] !== SETTINGS_FRAME || length > DEFAULT_MAX_FRAME) return "invalid";
  return received.length >= HTTP2_MAGIC.length + FRAME_HEADER_BYTES + length ? "complete" : "incomplete";
}
