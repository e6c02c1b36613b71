import type { Readable } from "node:stream";

/**
 * Calls `onLine` with each JSON object a child process writes to `stream`, one per line (lines
 * that are not JSON arrive as `{ raw }`), however the output is cut into chunks.
 */
export function readJsonLines(stream: Readable, onLine: (line: Record<string, unknown>) => void): void {
  let buffered = "";
  stream.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { raw: text };
      }
      onLine(line);
    }
  });
}
