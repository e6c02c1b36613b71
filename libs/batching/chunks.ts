/** How many items one message (or statement) may carry, and a budget of their estimated bytes. */
export interface ChunkLimits {
  readonly maxItems: number;
  readonly maxBytes: number;
}

/**
 * Cuts `items` into chunks in order, each with at most `maxItems` items and `maxBytes` estimated
 * bytes (pure). An item bigger than `maxBytes` on its own gets a chunk to itself. Used for the
 * worker protocol's several-per-message streams, on both ends (apps/api, libs/worker-sdk).
 */
export function chunkByLimits<T>(items: readonly T[], sizeOf: (item: T) => number, limits: ChunkLimits): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= limits.maxItems || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
