/**
 * How the dashboard shows bytes it does not understand (payloads and results): at most `cap`
 * bytes, as text when they are UTF-8 text (pretty-printed when the whole value is JSON), otherwise
 * as a hex dump. The full size is always reported, so a cut preview says it is cut.
 */
export interface BytesPreview {
  readonly size: number;
  readonly truncated: boolean;
  readonly kind: "empty" | "text" | "json" | "hex";
  readonly text: string;
}

/** Bytes of a payload or result the job page shows at most. */
export const PREVIEW_BYTES = 4096;

const decoder = new TextDecoder("utf-8", { fatal: true });

export function previewBytes(bytes: Buffer, cap = PREVIEW_BYTES): BytesPreview {
  const size = bytes.length;
  if (size === 0) return { size, truncated: false, kind: "empty", text: "" };
  const truncated = size > cap;
  const head = bytes.subarray(0, cap);
  const text = decodeText(head, truncated);
  if (text === undefined) return { size, truncated, kind: "hex", text: hexDump(head) };
  if (!truncated) {
    const json = asJson(text);
    if (json !== undefined) return { size, truncated, kind: "json", text: json };
  }
  return { size, truncated, kind: "text", text };
}

/** The bytes as text, or undefined when they are not UTF-8 or hold control characters other than tab and newlines. */
function decodeText(head: Buffer, truncated: boolean): string | undefined {
  // A cut can split a multi-byte character; drop its start (at most 3 bytes) rather than call the whole thing binary.
  for (let drop = 0; drop <= (truncated ? 3 : 0); drop++) {
    try {
      const text = decoder.decode(head.subarray(0, head.length - drop));
      return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
    } catch {
      // not UTF-8 at this length; try one byte shorter
    }
  }
  return undefined;
}

function asJson(text: string): string | undefined {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return undefined;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return undefined;
  }
}

/** `00000000  de ad be ef …  |....|`, 16 bytes a line, as `hexdump -C` prints it. */
export function hexDump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, "0"));
    const left = hex.slice(0, 8).join(" ");
    const right = hex.slice(8).join(" ");
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${off.toString(16).padStart(8, "0")}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join("\n");
}
