import type { Config } from "../../../libs/config/index.js";
import type { RequestGuard } from "./handlers.js";
import { requestScanLimits } from "./request-limits.js";
import { countTopLevel, scanRequest, type ScanLimits } from "./request-scanner.js";
import { loadRequestSchemas, type WireMessage } from "./wire-schema.js";

/**
 * The request guard of apps/api: every jq.v1 request is scanned against its message type from the
 * contract before grpc-js hands it to the generated decoder (request-scanner.ts says what is
 * checked). Methods of other services (health, reflection) are not wrapped.
 */
export function createRequestGuard(limits: Config["limits"]): RequestGuard {
  const schemas = loadRequestSchemas();
  const scan: ScanLimits = requestScanLimits(limits);
  const decodable = new Map([...schemas].map(([path, type]) => [path, decodability(type, scan)]));
  return {
    check(path, bytes) {
      const type = schemas.get(path);
      return type ? scanRequest(bytes, type, scan) : undefined;
    },
    decodableAfterRefusal(path, bytes) {
      const rule = decodable.get(path);
      if (rule === undefined || rule === false) return false;
      // A refused message was not scanned to its end: count its isolated items before decoding.
      try {
        return rule.every(({ number, cap }) => countTopLevel(bytes, number) <= cap);
      } catch {
        return false;
      }
    },
  };
}

/**
 * Whether a refused request of this type may still be decoded (to ack what it can by sequence):
 * never when it has repeated fields, whose items decoding would materialise without a cap, except
 * isolated top-level fields, whose item counts are checked first (the returned caps).
 */
function decodability(type: WireMessage, scan: ScanLimits): false | { number: number; cap: number }[] {
  const caps: { number: number; cap: number }[] = [];
  for (const [number, field] of type.fields) {
    const qualified = `${type.fullName}.${field.name}`;
    if (field.repeated && scan.isolatedItems?.has(qualified)) {
      if (field.message && hasRepeated(field.message, new Set())) return false;
      caps.push({ number, cap: scan.itemsByField.get(qualified) ?? scan.defaultItems });
    } else if (field.repeated || (field.message && hasRepeated(field.message, new Set()))) return false;
  }
  return caps;
}

function hasRepeated(type: WireMessage, seen: Set<string>): boolean {
  if (seen.has(type.fullName)) return false;
  seen.add(type.fullName);
  for (const field of type.fields.values()) {
    if (field.repeated) return true;
    if (field.message && hasRepeated(field.message, seen)) return true;
  }
  return false;
}
