import type { SubmitJobRequest } from "../../libs/proto/index.js";

/** A SubmitJobRequest with every field at a sensible default, overridden by `over`. */
export function jobRequest(queue: string, over: Partial<SubmitJobRequest> = {}): SubmitJobRequest {
  return { queue, payload: Buffer.from("p"), metadata: {}, priority: 0, idempotencyKey: "", ...over };
}
