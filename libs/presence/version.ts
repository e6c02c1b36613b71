import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** jq's version, from package.json next to libs/ (source) or dist/ (build). */
export const JQ_VERSION: string = (() => {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "jq" && pkg.version) return pkg.version;
    }
  }
  return "unknown";
})();
