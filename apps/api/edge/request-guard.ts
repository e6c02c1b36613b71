import type { Config } from "../../../libs/config/index.js";
import type { RequestGuard } from "./handlers.js";
import { requestScanLimits } from "./request-limits.js";
import { scanRequest, type ScanLimits } from "./request-scanner.js";
import { loadRequestSchemas, type WireMessage } from "./wire-schema.js";

/**
 * The request guard of apps/api: every jq.v1 request is scanned against its message type from the
 * contract before grpc-js hands it to the generated decoder (request-scanner.ts says what is
 * checked). Methods of other services (health, reflection) are not wrapped.
 */
export function createRequestGuard(limits: Config["limits"]): RequestGuard {
  const schemas = loadRequestSchemas();
  const scan: ScanLimits = requestScanLimits(limits);
  const decodable = new Map([...schemas].map(([path, type]) => [path, !hasRepeated(type, new Set())]));
  return {
    check(path, bytes) {
      const type = schemas.get(path);
      if (type) scanRequest(bytes, type, scan);
    },
    decodableAfterRefusal: (path) => decodable.get(path) ?? false,
  };
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
