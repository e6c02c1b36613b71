import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type RunningApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const KEY = "sdk-test-key-0123456789";
const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = join(root, "packages", "sdk-ts");

/**
 * packages/sdk-ts as another project gets it: `npm pack` makes the tarball, a scratch project
 * outside this repository (so nothing resolves from jq's node_modules) installs it with npm,
 * type-checks a program against the package's .d.ts files and runs it: one job, submitted through
 * JqClient and run by a Worker, against a real apps/api.
 */
describe("the @jq/sdk package", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let scratch: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    // With an API key, so the example's JQ_API_KEY is used end to end.
    api = await startApi(db.url, { JQ_API_KEYS: `sdk:admin:${createHash("sha256").update(KEY).digest("hex")}` });
    scratch = mkdtempSync(join(tmpdir(), "jq-sdk-consumer-"));
  });
  afterAll(async () => {
    await api?.stop();
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("packs, installs into a fresh project, type-checks and runs a job", () => {
    const run = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
      execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    run("npm", ["pack", "--pack-destination", scratch], pkg);
    const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBe("jq-sdk-0.1.0.tgz");
    const listing = run("tar", ["tzf", join(scratch, tarball!)], scratch);
    expect(listing).toContain("package/dist/packages/sdk-ts/index.d.ts");
    expect(listing).not.toMatch(/\.test\.(js|d\.ts)/);

    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // --prefer-offline: the dependencies (grpc-js, protobuf) are in npm's cache from jq's own install.
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", `./${tarball}`], scratch);
    copyFileSync(join(pkg, "example", "consumer.ts"), join(scratch, "consumer.ts"));
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2023", module: "NodeNext", moduleResolution: "NodeNext", strict: true,
          skipLibCheck: false, types: ["node"], typeRoots: [join(root, "node_modules", "@types")],
        },
        files: ["consumer.ts"],
      }),
    );
    run(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], scratch);
    const out = run(process.execPath, ["consumer.js", api.address], scratch, { JQ_API_KEY: KEY });
    expect(JSON.parse(out)).toEqual({ status: "DONE", result: "hello, world" });
  }, 600_000); // npm pack, npm install, tsc and a job: 311 s on a loaded 2-core machine
});
