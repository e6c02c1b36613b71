import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTING_KEYS } from "../../libs/config/settings.js";

describe("README configuration table", () => {
  it("documents every JQ_* setting", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(SETTING_KEYS.filter((k) => !readme.includes(`\`${k}\``))).toEqual([]);
  });
});
