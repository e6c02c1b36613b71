/** How many items one message (or statement) may carry, and a budget of their estimated bytes. */
export interface ChunkLimits {
  readonly maxItems: number;
  readonly maxBytes: number;
}

/**
 * Our own cap on a message of several items, whatever the peer accepts: a large message delays
 * every item in it (every ack of a result batch), and 1 MiB stays well within the default 4 MiB
 * receive limit of gRPC clients in other languages.
 */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/**
 * The limits of a message of several items for a peer that accepts messages of up to
 * `maxMessageBytes`: half of that (item sizes are estimates, and the envelope is not counted),
 * and no more than MAX_CHUNK_BYTES. The same rule on both ends of the worker protocol.
 */
export function messageChunkLimits(maxItems: number, maxMessageBytes: number): ChunkLimits {
  return { maxItems, maxBytes: Math.min(MAX_CHUNK_BYTES, Math.floor(maxMessageBytes / 2)) };
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
