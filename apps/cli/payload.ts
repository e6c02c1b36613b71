import { readFile } from "node:fs/promises";
import { CliError } from "./exit-codes.js";

/**
 * The payload bytes of `job submit` / `schedule create`: the argument as UTF-8 text, or the
 * contents of `--payload-file` (`-` reads stdin), or stdin when it is not a terminal and no
 * payload was given. Neither: an empty payload.
 */
export async function readPayload(argument: string | undefined, file: string | undefined): Promise<Buffer> {
  if (argument !== undefined && file !== undefined) throw new CliError("give the payload as an argument or --payload-file, not both");
  if (argument !== undefined) return Buffer.from(argument, "utf8");
  if (file === "-" || (file === undefined && !process.stdin.isTTY && !stdinIsEmptyDevice())) return readStdin();
  if (file !== undefined) {
    try {
      return await readFile(file);
    } catch (error) {
      throw new CliError(`--payload-file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return Buffer.alloc(0);
}

/** No stdin at all (closed or /dev/null), as under cron or CI: nothing to read. */
function stdinIsEmptyDevice(): boolean {
  return process.stdin.readableEnded || process.stdin.destroyed;
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `--metadata k=v` given several times → a map. */
export function parseMetadata(pairs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--metadata: "${pair}" is not key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Commander's collector for a repeatable flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseInteger(flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${flag}: "${text}" is not a whole number from ${min} to ${max}`);
    return n;
  };
}
