import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jobStateDiagram } from "../../libs/lifecycle/state-diagram.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DOC = readFileSync(join(ROOT, "docs", "architecture.md"), "utf8");

describe("docs/architecture.md", () => {
  it("draws the job state machine exactly as the lifecycle table has it", () => {
    const block = /<!-- state-diagram:begin -->\n```mermaid\n([\s\S]*?)\n```\n<!-- state-diagram:end -->/.exec(DOC);
    expect(block, "the state diagram block").not.toBeNull();
    expect(block![1]).toBe(jobStateDiagram());
  });

  it("lists every table of the schema", () => {
    const schema = readFileSync(join(ROOT, "migrations", "snapshot", "schema.sql"), "utf8");
    const tables = [...schema.matchAll(/^TABLE (\w+) \(/gm)].map((m) => m[1]!);
    expect(tables.length).toBeGreaterThan(5);
    for (const table of tables) expect(DOC, table).toContain(`| \`${table}\` |`);
  });

  it("names only files that exist", () => {
    const files = [...DOC.matchAll(/`((?:apps|libs|migrations|test)\/[\w./-]+\.(?:ts|sql))`/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(15);
    for (const file of files) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });
});
