import { InvalidArgument } from "../../../libs/errors/index.js";
import type { Duration } from "../../../libs/proto/index.js";

/** A proto Duration as milliseconds; refuses negative or non-finite values, naming the field. */
export function durationToMs(d: Duration, field: string): number {
  const seconds = Number(d.seconds);
  if (!Number.isFinite(seconds) || !Number.isInteger(d.nanos)) throw new InvalidArgument(field, "is not a valid duration");
  if (seconds < 0 || d.nanos < 0) throw new InvalidArgument(field, "must not be negative");
  const ms = seconds * 1000 + d.nanos / 1e6;
  if (ms > 100 * 365 * 24 * 3600 * 1000) throw new InvalidArgument(field, "is longer than 100 years");
  return ms;
}

/** A proto Duration that must be a positive whole number of seconds (timeouts, TTLs, retention). */
export function durationToWholeSeconds(d: Duration, field: string, allowZero = false): number {
  const ms = durationToMs(d, field);
  if (d.nanos !== 0) throw new InvalidArgument(field, "must be a whole number of seconds");
  if (ms === 0 && !allowZero) throw new InvalidArgument(field, "must be positive");
  if (ms / 1000 > 2_147_483_647) throw new InvalidArgument(field, "is too long");
  return ms / 1000;
}

/** A positive whole number of milliseconds, as stored for backoff settings. */
export function durationToWholeMs(d: Duration, field: string): number {
  const ms = durationToMs(d, field);
  if (!Number.isInteger(ms)) throw new InvalidArgument(field, "must be a whole number of milliseconds");
  if (ms <= 0) throw new InvalidArgument(field, "must be positive");
  if (ms > 2_147_483_647) throw new InvalidArgument(field, "is too long");
  return ms;
}

export function msToDuration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
