import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { trackScratchDir, untrackScratchDir } from "./emergency-cleanup.js";

export interface ScratchDir {
  readonly path: string;
  /** Removes the directory; safe to call twice. */
  remove(): Promise<void>;
}

// A throwaway directory for one service's data, config and log, removed when the service stops
// (or when this process exits without stopping it).
export async function createScratchDir(service: string): Promise<ScratchDir> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `jq-${service}-`));
  trackScratchDir(dir);
  return {
    path: dir,
    async remove() {
      await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
      untrackScratchDir(dir);
    },
  };
}
