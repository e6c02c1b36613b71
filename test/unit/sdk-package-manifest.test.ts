import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SDK_VERSION } from "../../libs/worker-sdk/version.js";

const read = (rel: string) =>
  JSON.parse(readFileSync(new URL(`../../${rel}`, import.meta.url), "utf8")) as { version: string; dependencies: Record<string, string> };

describe("packages/sdk-ts/package.json", () => {
  const pkg = read("packages/sdk-ts/package.json");
  const rootPkg = read("package.json");

  it("carries the SDK's version (sent to servers as sdk_version)", () => {
    expect(pkg.version).toBe(SDK_VERSION);
  });

  it("depends on the same ranges as jq itself, so the workspace installs nothing extra", () => {
    for (const [name, range] of Object.entries(pkg.dependencies)) expect(rootPkg.dependencies[name], name).toBe(range);
  });
});
