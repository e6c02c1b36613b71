import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** README.md, docs/*.md and the packages' READMEs: the pages a newcomer copies commands from. */
export function documentationPages(): string[] {
  const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => join("docs", f))];
  if (existsSync(join(root, "packages"))) {
    for (const pkg of readdirSync(join(root, "packages"))) {
      if (existsSync(join(root, "packages", pkg, "README.md"))) pages.push(join("packages", pkg, "README.md"));
    }
  }
  return pages;
}

/** Every `JQ_*` variable name the documentation mentions (not prefixes such as `JQ_TEST_`). */
export function documentedJqVariables(): Set<string> {
  const names = new Set<string>();
  for (const page of documentationPages()) {
    for (const m of readFileSync(join(root, page), "utf8").matchAll(/\bJQ_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
  }
  return names;
}
