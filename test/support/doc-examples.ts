import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { documentationPages } from "./documented-variables.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * How a shell example is treated, from the HTML comment right above its fence:
 *
 *   <!-- example: run -->                    run with bash -euo pipefail; must exit 0
 *   <!-- example: run until "text" -->       start, wait for `text` in its output, then Ctrl-C
 *                                            (SIGINT to its process group); must exit 0 or
 *                                            by that SIGINT
 *   <!-- example: not run here (reason) -->  listed with its reason, not run
 *
 * A shell fence (sh, bash, shell, console) without one is an error: every example is either
 * checked or says why it cannot be.
 */
export type ExampleMode = { kind: "run" } | { kind: "run-until"; text: string } | { kind: "not-run"; reason: string } | { kind: "unmarked" };

export interface ShellExample {
  /** `docs/api-keys.md:17` — where the fence opens. */
  readonly where: string;
  readonly script: string;
  readonly mode: ExampleMode;
}

const SHELL_FENCE = /^```(sh|bash|shell|console)\s*$/;

function modeOf(marker: string | undefined): ExampleMode {
  const m = marker?.match(/^<!--\s*example:\s*(.*?)\s*-->$/);
  if (!m) return { kind: "unmarked" };
  const body = m[1]!;
  if (body === "run") return { kind: "run" };
  const until = body.match(/^run until "(.+)"$/);
  if (until) return { kind: "run-until", text: until[1]! };
  const notRun = body.match(/^not run here \((.+)\)$/);
  if (notRun) return { kind: "not-run", reason: notRun[1]! };
  return { kind: "unmarked" };
}

export function shellExamples(): ShellExample[] {
  const examples: ShellExample[] = [];
  for (const page of documentationPages()) {
    const lines = readFileSync(join(root, page), "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!SHELL_FENCE.test(lines[i]!)) continue;
      let j = i - 1;
      while (j >= 0 && lines[j]!.trim() === "") j--;
      const mode = modeOf(j >= 0 ? lines[j]!.trim() : undefined);
      const body: string[] = [];
      let k = i + 1;
      for (; k < lines.length && !lines[k]!.startsWith("```"); k++) body.push(lines[k]!);
      examples.push({ where: `${page}:${i + 1}`, script: body.join("\n"), mode });
      i = k;
    }
  }
  return examples;
}
