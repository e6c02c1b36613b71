import { CliError } from "./exit-codes.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a flag value such as `500ms`, `30s`, `5m`, `2h`, `7d`; a bare number is seconds. */
export function parseDurationMs(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new CliError(`${flag}: "${text}" is not a duration (e.g. 500ms, 30s, 5m, 2h, 7d)`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? "s"]!);
}

/** A duration for people: `1m30s`, `250ms`, `2h`. */
export function formatDuration(d: { seconds: string; nanos: number } | undefined): string {
  if (!d) return "-";
  let s = Number(d.seconds);
  if (s === 0 && d.nanos > 0) return `${Math.round(d.nanos / 1e6)}ms`;
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join("");
}
