import { InvalidArgument } from "../../../libs/errors/index.js";
import type { QueueSettings as ProtoSettings } from "../../../libs/proto/index.js";
import { QUEUE_DEFAULTS, type QueueSettings } from "../../../libs/queues/index.js";
import { durationToWholeMs, durationToWholeSeconds } from "../../../libs/wire/index.js";
import { MAX_INT4, validateNonNegativeInt } from "../../../libs/validation/index.js";

/**
 * Proto field path (as an update mask names it) → domain setting. A Map, not an object literal: a
 * mask path is the caller's text, and `toString` or `__proto__` would find an object's inherited
 * members.
 */
const PATHS: ReadonlyMap<string, keyof QueueSettings> = new Map([
  ["max_retries", "maxRetries"],
  ["ttl", "ttlSeconds"],
  ["backoff_base", "backoffBaseMs"],
  ["backoff_max", "backoffMaxMs"],
  ["timeout", "timeoutSeconds"],
  ["max_concurrency", "maxConcurrency"],
  ["retention", "retentionSeconds"],
]);

/** One setting from the proto message; absent means the default (null for optional limits). */
function settingFromProto(p: ProtoSettings | undefined, key: keyof QueueSettings): number | null {
  const f = "settings.";
  switch (key) {
    case "maxRetries":
      return p?.maxRetries === undefined ? QUEUE_DEFAULTS.maxRetries : validateNonNegativeInt(p.maxRetries, `${f}max_retries`, 1_000_000);
    case "ttlSeconds":
      return p?.ttl === undefined ? null : durationToWholeSeconds(p.ttl, `${f}ttl`);
    case "backoffBaseMs":
      return p?.backoffBase === undefined ? QUEUE_DEFAULTS.backoffBaseMs : durationToWholeMs(p.backoffBase, `${f}backoff_base`);
    case "backoffMaxMs":
      return p?.backoffMax === undefined ? QUEUE_DEFAULTS.backoffMaxMs : durationToWholeMs(p.backoffMax, `${f}backoff_max`);
    case "timeoutSeconds":
      return p?.timeout === undefined ? null : durationToWholeSeconds(p.timeout, `${f}timeout`);
    case "maxConcurrency":
      if (p?.maxConcurrency === undefined) return null;
      if (p.maxConcurrency < 1 || p.maxConcurrency > MAX_INT4) throw new InvalidArgument(`${f}max_concurrency`, "must be positive");
      return p.maxConcurrency;
    case "retentionSeconds":
      return p?.retention === undefined ? QUEUE_DEFAULTS.retentionSeconds : durationToWholeSeconds(p.retention, `${f}retention`, true);
  }
}

export function settingsFromProto(p: ProtoSettings | undefined): QueueSettings {
  const out: Record<string, number | null> = {};
  for (const key of PATHS.values()) out[key] = settingFromProto(p, key);
  return out as unknown as QueueSettings;
}

/** The settings an UpdateQueue mask names, with their new values. */
export function settingsChangesFromProto(p: ProtoSettings | undefined, mask: readonly string[] | undefined): Partial<QueueSettings> {
  if (!mask || mask.length === 0) throw new InvalidArgument("update_mask", "must name at least one setting");
  const changes: Record<string, number | null> = {};
  for (const [i, path] of mask.entries()) {
    const key = PATHS.get(path.replace(/^settings\./, ""));
    if (!key) throw new InvalidArgument(`update_mask[${i}]`, `unknown setting ${JSON.stringify(path)}; one of ${[...PATHS.keys()].join(", ")}`);
    changes[key] = settingFromProto(p, key);
  }
  return changes as Partial<QueueSettings>;
}
