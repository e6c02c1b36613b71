import Table from "cli-table3";

/**
 * Prints one JSON document (the --json output) on stdout. Messages come from the generated
 * `toJSON` (proto3 JSON field names, enums by name, 64-bit integers as strings, timestamps in
 * RFC 3339); durations, which it leaves as `{seconds, nanos}`, become the proto3 JSON string
 * (`"30s"`, `"1.5s"`), as grpcurl prints them.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, durationsAsText, 2)}\n`);
}

function durationsAsText(_key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const d = value as { seconds?: unknown; nanos?: unknown };
  if (keys.length === 0 || !keys.every((k) => k === "seconds" || k === "nanos")) return value;
  if ((d.seconds !== undefined && typeof d.seconds !== "string") || (d.nanos !== undefined && typeof d.nanos !== "number")) return value;
  const nanos = (d.nanos as number | undefined) ?? 0;
  const fraction = nanos ? `.${String(Math.abs(nanos)).padStart(9, "0").replace(/0+$/, "")}` : "";
  return `${(d.seconds as string | undefined) ?? "0"}${fraction}s`;
}

/** Prints rows as a plain table for people: a header line, then one line per row. */
export function printTable(head: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const table = new Table({
    head: [...head],
    style: { head: [], border: [], compact: true, "padding-left": 0, "padding-right": 0 },
    chars: { top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "", left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  " },
  });
  for (const row of rows) table.push(row.map((cell) => (cell === undefined || cell === "" ? "-" : String(cell))));
  process.stdout.write(`${table.toString().split("\n").map((line) => line.trimEnd()).join("\n")}\n`);
}

/** Prints `label: value` pairs, aligned, for one object. */
export function printFields(fields: readonly (readonly [string, unknown])[]): void {
  const width = Math.max(...fields.map(([label]) => label.length));
  for (const [label, value] of fields) {
    const text = value === undefined || value === "" ? "-" : String(value);
    process.stdout.write(`${`${label}:`.padEnd(width + 2)}${text}\n`);
  }
}

export function formatTime(date: Date | undefined): string {
  return date ? date.toISOString() : "-";
}

/** A payload or result for people: UTF-8 text when it is printable, else a hex preview. */
export function previewBytes(bytes: Buffer, max = 200): string {
  if (bytes.length === 0) return "-";
  const text = bytes.toString("utf8");
  const printable = !text.includes("\uFFFD") && !/[\u0000-\u0008\u000E-\u001F]/.test(text);
  const more = bytes.length > max ? ` … (${bytes.length} bytes)` : "";
  if (printable) return `${text.slice(0, max)}${more}`;
  return `hex ${bytes.subarray(0, Math.min(max, 64)).toString("hex")}${bytes.length > 64 ? ` … (${bytes.length} bytes)` : ""}`;
}
