import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellExamples, type ShellExample } from "../support/doc-examples.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const examples = shellExamples();

/**
 * The shell examples of README.md, docs/*.md and packages/*\/README.md, run as a reader would
 * (from the repository root, after the build `npm test` does), so a page that drifts from the
 * code fails the suite. How each is marked: test/support/doc-examples.ts. Examples that need
 * something this machine has not (a container engine, a Kubernetes cluster, minutes of load) are
 * marked "not run here" with the reason, and listed by the first test.
 */
describe("documentation shell examples", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("every shell example is marked run or not-run-here; the list of each", () => {
    const unmarked = examples.filter((e) => e.mode.kind === "unmarked").map((e) => e.where);
    const ran = examples.filter((e) => e.mode.kind === "run" || e.mode.kind === "run-until").map((e) => e.where);
    const notRun = examples.flatMap((e) => (e.mode.kind === "not-run" ? [`${e.where} — ${e.mode.reason}`] : []));
    process.stdout.write(`doc examples run (${ran.length}):\n  ${ran.join("\n  ")}\n`);
    process.stdout.write(`doc examples not run here (${notRun.length}):\n  ${notRun.join("\n  ")}\n`);
    expect(unmarked, "shell examples without an <!-- example: … --> marker").toEqual([]);
    expect(ran.length).toBeGreaterThan(0);
  });

  for (const example of examples.filter((e) => e.mode.kind === "run" || e.mode.kind === "run-until")) {
    it(`${example.where} runs`, async () => {
      const { code, signal, output } = await runExample(example, { JQ_DATABASE_URL: db.url });
      // After a Ctrl-C, npm and bash end by re-raising SIGINT, as they do in a terminal.
      const ok = code === 0 || (example.mode.kind === "run-until" && signal === "SIGINT");
      expect(ok, `exit ${code ?? signal}\n${output}`).toBe(true);
      // Node's warnings (TimeoutNegativeWarning, deprecations) are drift too.
      expect(output).not.toMatch(/\(node:\d+\) \w*Warning/);
    }, 120_000);
  }
});

function runExample(example: ShellExample, env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn("bash", ["-euo", "pipefail", "-c", example.script], {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true, // its own process group, to send it a terminal's Ctrl-C
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let interrupted = false;
  const mode = example.mode;
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (mode.kind === "run-until" && !interrupted && output.includes(mode.text)) {
      interrupted = true;
      try {
        process.kill(-child.pid!, "SIGINT");
      } catch {
        // already gone
      }
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal, output })));
}
