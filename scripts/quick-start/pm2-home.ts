import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * pm2's home for this checkout: `<data dir>/pm2` unless PM2_HOME is set. pm2's default home
 * (~/.pm2) is one per user, so a second `npm start` on the machine would attach to the first one's
 * daemon, restart its apps and, on Ctrl-C, stop them. pm2 puts unix sockets in its home, and a
 * socket path may not exceed ~107 bytes: a data directory too deep for that gets a home in the
 * temp directory named by a hash of the data directory, still one per checkout.
 */
export function pm2Home(dataDir: string, env: NodeJS.ProcessEnv): string {
  if (env.PM2_HOME) return env.PM2_HOME;
  const home = join(dataDir, "pm2");
  const longestSocket = join(home, "interactor.sock");
  if (Buffer.byteLength(longestSocket) <= 100) return home;
  return join(tmpdir(), `jq-pm2-${createHash("sha256").update(dataDir).digest("hex").slice(0, 16)}`);
}
