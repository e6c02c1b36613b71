import { readFileSync } from "node:fs";
import { CLIENT_KEYS, misplacedServerKeys } from "./client-keys.js";
import { settingsSchema, SETTING_KEYS } from "./settings.js";
import { toConfig, type Config } from "./config.js";

/** Variables that belong to tooling, not to a jq process: the test bed's, and the file pointer. */
const IGNORED_PREFIXES = ["JQ_TEST_"];
/** The build scripts' own knobs (scripts/ensure-node.sh, scripts/kafka/fetch-jars.sh), docs/install.md. */
const TOOLING_KEYS = new Set(["JQ_TOOLS_DIR", "JQ_CACHE_DIR"]);
const FILE_KEY = "JQ_CONFIG_FILE";

export interface ConfigProblem {
  readonly key: string;
  readonly source: string;
  readonly message: string;
}

/** Thrown when configuration is invalid; its message lists every bad key and what it expects. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.key} (${p.source}): ${p.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Builds the Config from the environment and the optional JSON file named by JQ_CONFIG_FILE.
 * This module is the only reader of `process.env` in jq; everything else receives the Config.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromFile = readConfigFile(env[FILE_KEY]);
  const fromEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith("JQ_") || key === FILE_KEY || value === undefined) continue;
    if (IGNORED_PREFIXES.some((p) => key.startsWith(p)) || TOOLING_KEYS.has(key)) continue;
    // An empty variable means "not set", as in most shells' `FOO= cmd` idiom.
    if (value.trim() === "") continue;
    fromEnv[key] = value;
  }
  const sourceOf = (key: string) => (key in fromEnv ? "environment" : fromFile ? fromFile.path : "default");

  const problems: ConfigProblem[] = [];
  for (const key of CLIENT_KEYS) {
    const misplaced = fromEnv[key] === undefined ? undefined : misplacedServerKeys(key, fromEnv[key]);
    if (misplaced) problems.push({ key, source: "environment", message: misplaced });
    delete fromEnv[key]; // a client's setting, exported in the same shell: not the server's business
  }
  const known = new Set<string>(SETTING_KEYS);
  for (const key of [...Object.keys(fromFile?.values ?? {}), ...Object.keys(fromEnv)]) {
    if (!known.has(key)) problems.push({ key, source: sourceOf(key), message: unknownKeyMessage(key, known) });
  }
  const raw: Record<string, unknown> = { ...(fromFile?.values ?? {}), ...fromEnv };
  for (const key of Object.keys(raw)) if (!known.has(key)) delete raw[key];

  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? "(config)");
      problems.push({ key, source: sourceOf(key), message: issue.message });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return toConfig(parsed.data);
}

function readConfigFile(path: string | undefined): { path: string; values: Record<string, unknown> } | undefined {
  if (path === undefined || path.trim() === "") return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([{ key: FILE_KEY, source: "environment", message: `cannot read ${path}: ${(err as Error).message}` }]);
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ key: FILE_KEY, source: path, message: `not valid JSON: ${(err as Error).message}` }]);
  }
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new ConfigError([{ key: FILE_KEY, source: path, message: "expected a JSON object of JQ_* keys" }]);
  }
  return { path, values: values as Record<string, unknown> };
}

function unknownKeyMessage(key: string, known: ReadonlySet<string>): string {
  const close = [...known].find((k) => editDistance(k, key) <= 2);
  return close ? `unknown setting; did you mean ${close}?` : "unknown setting";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
