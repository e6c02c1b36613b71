#!/usr/bin/env node
// Generates the TypeScript code of the gRPC contract (proto/jq/v1/*.proto → libs/proto/gen/) and
// the binary FileDescriptorSet libs/proto/gen/jq.binpb that gRPC server reflection serves.
//
// Run from anywhere (npm scripts run it from the repository root): `node scripts/proto/generate.mjs`
// [--force]. Fully offline: buf and the ts-proto plugin come from node_modules, the well-known
// types are built into buf. The work is skipped when a stamp in the output directory records the
// same hash of the inputs (the proto/ tree, this script, the buf and ts-proto versions), so every
// `npm run build/typecheck/test` may call it at no cost. Several processes may run it at once
// (engineers share a working tree): a lock directory serialises them, and whoever comes second
// finds the stamp fresh. Prints one line on success; on failure prints buf's output, exits 1.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const scriptFile = fileURLToPath(import.meta.url);
const root = join(dirname(scriptFile), "..", "..");
const protoDir = join(root, "proto");
const outDir = join(root, "libs", "proto", "gen");
const descriptorName = "jq.binpb";
const stampFile = join(outDir, ".inputs-stamp.json");
// Outside the output directory (buf.gen.yaml's `clean` empties it) and in an ignored place.
const lockDir = join(root, "node_modules", ".cache", "jq-proto-generate.lock");
const bufCli = join(root, "node_modules", "@bufbuild", "buf", "bin", "buf");
const LOCK_WAIT_MS = 120_000;

function listFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listFiles(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

function packageVersion(name) {
  return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
}

/** Hash of everything the output depends on; file paths are relative so clones agree. */
function inputsHash() {
  const hash = createHash("sha256");
  hash.update(`buf ${packageVersion("@bufbuild/buf")}\nts-proto ${packageVersion("ts-proto")}\n`);
  const files = [scriptFile, ...listFiles(protoDir)].sort();
  for (const file of files) {
    hash.update(`${relative(root, file).split(sep).join("/")}\0`);
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    return undefined;
  }
}

/** The stamp matches and every file it lists is still there. */
function isFresh(hash) {
  const stamp = readStamp();
  if (!stamp || stamp.hash !== hash || !Array.isArray(stamp.files)) return false;
  return stamp.files.every((file) => {
    try {
      return statSync(join(outDir, file)).isFile();
    } catch {
      return false;
    }
  });
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** mkdir is atomic: the process that creates the directory holds the lock. */
function acquireLock() {
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, "pid"), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(lockDir, "pid"), "utf8"));
    } catch {
      // The holder has created the directory but not yet written its pid: wait.
    }
    const abandoned = Number.isInteger(holder) && holder > 0 && !isAlive(holder);
    if (abandoned || Date.now() > deadline) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    sleep(100);
  }
}

function releaseLock() {
  rmSync(lockDir, { recursive: true, force: true });
}

function runBuf(args) {
  // buf starts the plugin (a `#!/usr/bin/env node` script): put this very node first on PATH.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
  const result = spawnSync(process.execPath, [bufCli, ...args], { cwd: protoDir, env, encoding: "utf8" });
  if (result.error || result.status !== 0) {
    const detail = [result.error?.message, result.stdout, result.stderr].filter(Boolean).join("\n").trim();
    throw new Error(`\`buf ${args.join(" ")}\` failed${detail ? `:\n${detail}` : ""}`);
  }
}

function generate(hash) {
  // buf.gen.yaml has `clean: true`: the output directory is emptied first, so files of deleted
  // .proto files do not linger.
  runBuf(["generate"]);
  // A FileDescriptorSet of our files and their imports, for gRPC server reflection.
  runBuf(["build", "--output", relative(protoDir, join(outDir, descriptorName))]);
  const files = listFiles(outDir)
    .map((file) => relative(outDir, file).split(sep).join("/"))
    .filter((file) => file !== relative(outDir, stampFile))
    .sort();
  writeFileSync(stampFile, `${JSON.stringify({ hash, files }, null, 2)}\n`);
  return files;
}

function main() {
  const started = Date.now();
  const force = process.argv.includes("--force");
  const hash = inputsHash();
  const outLabel = relative(root, outDir).split(sep).join("/");
  if (!force && isFresh(hash)) return `proto: ${outLabel} is up to date`;
  acquireLock();
  try {
    // Another process may have generated while this one waited for the lock.
    if (!force && isFresh(hash)) return `proto: ${outLabel} is up to date`;
    const files = generate(hash);
    return `proto: generated ${files.length} files in ${outLabel} (${Date.now() - started} ms)`;
  } finally {
    releaseLock();
  }
}

try {
  console.log(main());
} catch (error) {
  console.error(`proto: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
