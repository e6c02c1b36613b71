import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { SubmitJobRequest } from "../../libs/proto/index.js";
import { msToDuration } from "../../libs/wire/to-wire.js";
import { parseDurationMs } from "./durations.js";
import { CliError } from "./exit-codes.js";
import { readStdin } from "./payload.js";

/**
 * One line of `job submit --file`: a JSON object. `payload` is sent as UTF-8 text when it is a
 * string, as its JSON text otherwise; `payloadBase64` carries raw bytes. See docs/cli.md.
 */
const JobLine = z.strictObject({
  queue: z.string().optional(),
  payload: z.unknown().optional(),
  payloadBase64: z.base64().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  priority: z.number().int().optional(),
  delay: z.string().optional(),
  maxRetries: z.number().int().nonnegative().optional(),
  timeout: z.string().optional(),
  idempotencyKey: z.string().optional(),
});

/** Every job of an NDJSON file (`-`: stdin); a bad line is a usage error naming its number. */
export async function readJobLines(file: string, defaultQueue: string | undefined): Promise<SubmitJobRequest[]> {
  let text: string;
  try {
    text = (file === "-" ? await readStdin() : await readFile(file)).toString("utf8");
  } catch (error) {
    throw new CliError(`--file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const jobs: SubmitJobRequest[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    const where = `${file === "-" ? "stdin" : file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CliError(`${where}: not a JSON object`);
    }
    const parsed = JobLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CliError(`${where}: ${issue.path.join(".") || "line"}: ${issue.message}`);
    }
    const j = parsed.data;
    const queue = j.queue ?? defaultQueue;
    if (!queue) throw new CliError(`${where}: no "queue" and no --queue`);
    if (j.payload !== undefined && j.payloadBase64 !== undefined) throw new CliError(`${where}: "payload" or "payloadBase64", not both`);
    const payload =
      j.payloadBase64 !== undefined ? Buffer.from(j.payloadBase64, "base64")
      : typeof j.payload === "string" ? Buffer.from(j.payload, "utf8")
      : j.payload === undefined ? Buffer.alloc(0)
      : Buffer.from(JSON.stringify(j.payload), "utf8");
    jobs.push({
      queue,
      payload,
      metadata: j.metadata ?? {},
      priority: j.priority ?? 0,
      start: j.delay !== undefined ? { $case: "delay", value: msToDuration(parseDurationMs(j.delay, `${where}: delay`)) } : undefined,
      maxRetries: j.maxRetries,
      timeout: j.timeout !== undefined ? msToDuration(parseDurationMs(j.timeout, `${where}: timeout`)) : undefined,
      idempotencyKey: j.idempotencyKey ?? "",
    });
  });
  return jobs;
}
