import type { Command } from "commander";
import { JqClient } from "../../libs/client/index.js";
import { parseDurationMs } from "./durations.js";
import { CliError, EXIT } from "./exit-codes.js";

/** The options every command takes (set on the root program, see program.ts). */
export interface GlobalOptions {
  address: string;
  apiKey?: string;
  tls?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  deadline: string;
  json?: boolean;
}

/** What a command's action needs: a connected client and how to print. */
export interface CliContext {
  readonly client: JqClient;
  readonly json: boolean;
  readonly deadlineMs: number;
}

/** The root's options as seen from any subcommand. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/**
 * Runs `action` with a client built from the global options, and closes the client afterwards.
 * The API key comes from `--api-key` or the environment variable JQ_API_KEY (commander's
 * `Option.env`, program.ts): a client-side setting, not one of the server's JQ_* settings.
 */
export async function withClient<T>(command: Command, action: (ctx: CliContext) => Promise<T>): Promise<T> {
  const o = globalOptions(command);
  const deadlineMs = parseDurationMs(o.deadline, "--deadline");
  if (deadlineMs <= 0) throw new CliError("--deadline: must be more than zero");
  const apiKey = o.apiKey;
  const files = o.caFile || o.certFile || o.keyFile;
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) {
    throw new CliError("--cert-file and --key-file go together (mutual TLS)", EXIT.usage);
  }
  const tls = files ? { caFile: o.caFile, certFile: o.certFile, keyFile: o.keyFile } : o.tls === true;
  let client: JqClient;
  try {
    client = new JqClient({ address: o.address, ...(apiKey ? { apiKey } : {}), tls, deadlineMs, maxAttempts: 2 });
  } catch (error) {
    throw new CliError(`cannot set up the connection: ${(error as Error).message}`);
  }
  try {
    return await action({ client, json: o.json === true, deadlineMs });
  } finally {
    client.close();
  }
}
