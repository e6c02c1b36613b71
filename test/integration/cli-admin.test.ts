import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { CLI_ENTRY, CLI_TEST_TIMEOUT_MS, cli, cliJson } from "../support/cli.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const KEYS = { client: "cli-client-key-0123456789", admin: "cli-admin-key-0123456789" };

/** jqctl's queue, schedule, worker, cluster and completion commands, against a real apps/api. */
describe("jqctl: queues, schedules, workers, cluster; exit codes", { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;
  /** As an admin: the key from the environment, as scripts pass it. */
  const admin = { env: { JQ_API_KEY: KEYS.admin } };
  const run = (...args: string[]) => cliJson(api.address, args, admin);
  const raw = (...args: string[]) => cli(["--address", api.address, ...args], admin);

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_API_KEYS: `app:client:${sha(KEYS.client)},ops:admin+client:${sha(KEYS.admin)}` });
    c = api.client(KEYS.admin);
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  it("creates, updates, gets, lists, pauses, resumes and deletes a queue", async () => {
    const created = await run("queue", "create", "mail", "--max-retries", "5", "--timeout", "30s", "--backoff-base", "2s", "--backoff-max", "10m");
    expect(created).toMatchObject({ name: "mail", settings: { maxRetries: 5, timeout: "30s", backoffBase: "2s", backoffMax: "600s" } });
    expect(created).not.toHaveProperty("paused");
    expect(await run("queue", "update", "mail", "--ttl", "1h", "--timeout", "none")).toMatchObject({ settings: { ttl: "3600s", maxRetries: 5 } });
    expect(((await run("queue", "get", "mail")) as { settings: Record<string, unknown> }).settings).not.toHaveProperty("timeout");
    const human = await raw("queue", "get", "mail");
    expect(human.stdout).toMatch(/^name:\s+mail\npaused:\s+no\nmax retries:\s+5\n/);
    expect(human.stdout).toMatch(/ttl:\s+1h\n/);

    await run("queue", "create", "other", "--paused");
    const list = (await run("queue", "list")) as { queues: { name: string; paused?: boolean }[] };
    expect(list.queues.map((q) => [q.name, q.paused ?? false])).toEqual([["mail", false], ["other", true]]);
    const table = await raw("queue", "list");
    expect(table.stdout.split("\n").slice(0, 3)).toEqual([
      expect.stringMatching(/^NAME\s+PAUSED\s+PENDING\s+RUNNING\s+DONE\s+DEAD\s+OLDEST PENDING$/),
      expect.stringMatching(/^mail\s+no\s+0\s+0\s+0\s+0\s+-$/),
      expect.stringMatching(/^other\s+yes\s+0/),
    ]);

    expect(await raw("queue", "pause", "mail")).toMatchObject({ code: 0, stdout: "queue mail paused\n" });
    expect(await run("queue", "resume", "mail")).toMatchObject({ name: "mail" });
    await run("job", "submit", "-q", "mail", "hi");
    const refused = await raw("queue", "delete", "mail");
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^jqctl: FAILED_PRECONDITION: queue mail still holds jobs \(1 PENDING\)/);
    expect(await run("queue", "delete", "mail", "--force")).toEqual({ deletedJobs: "1" });
    expect((await raw("queue", "get", "mail")).code).toBe(3);
  });

  it("maps each class of failure to its exit code with one line on stderr", async () => {
    const expectFailure = async (args: string[], code: number, line: RegExp, env: Record<string, string> = admin.env) => {
      const res = await cli(args, { env });
      expect(res.code, res.stderr).toBe(code);
      expect(res.stdout).toBe("");
      expect(res.stderr.trimEnd().split("\n")[0]).toMatch(line);
    };
    const at = ["--address", api.address];
    await run("queue", "create", "dup-test");
    await expectFailure([...at, "queue", "create", "dup-test"], 4, /^jqctl: ALREADY_EXISTS: /);
    await expectFailure([...at, "queue", "create", "bad name"], 2, /^jqctl: INVALID_ARGUMENT: name: /);
    await expectFailure([...at, "queue", "get", "nope"], 3, /^jqctl: NOT_FOUND: /);
    await expectFailure([...at, "queue", "update", "dup-test"], 2, /^jqctl: queue update: name at least one setting/);
    await expectFailure([...at, "queue", "create", "x", "--ttl", "soon"], 2, /^jqctl: --ttl: "soon" is not a duration/);
    await expectFailure([...at, "queue", "frobnicate"], 2, /^jqctl: unknown command 'frobnicate'/);
    await expectFailure([...at, "job", "list", "-q", "dup-test", "--status", "sleeping"], 2, /^jqctl: --status: unknown value "sleeping"/);
    // Auth: no key, a wrong key, a key whose role may not do it.
    await expectFailure([...at, "queue", "list"], 5, /^jqctl: UNAUTHENTICATED: /, {});
    await expectFailure([...at, "--api-key", "wrong-key-wrong-key", "queue", "list"], 5, /^jqctl: UNAUTHENTICATED: /, {});
    await expectFailure([...at, "queue", "create", "nope2"], 5, /^jqctl: PERMISSION_DENIED: /, { JQ_API_KEY: KEYS.client });
    // --api-key wins over the environment.
    expect((await cli([...at, "--api-key", KEYS.admin, "queue", "get", "dup-test"], { env: { JQ_API_KEY: KEYS.client } })).code).toBe(0);
    // Nothing listening, or no answer within the deadline.
    await expectFailure(["--address", "127.0.0.1:1", "--deadline", "2s", "cluster", "status"], 6, /^jqctl: UNAVAILABLE: /);
    // TLS against a plaintext server fails as unavailable, not as a crash.
    await expectFailure([...at, "--tls", "--deadline", "2s", "queue", "list"], 6, /^jqctl: (UNAVAILABLE|DEADLINE_EXCEEDED): /);
    await expectFailure([...at, "--ca-file", "/nonexistent/ca.pem", "queue", "list"], 2, /^jqctl: cannot set up the connection: /);
  });

  it("creates, lists and deletes schedules", async () => {
    await run("queue", "create", "nightly-q");
    const created = await cliJson(api.address, ["schedule", "create", "nightly", "-q", "nightly-q", "--cron", "0 3 * * *", "--time-zone", "Europe/Paris", "--metadata", "a=b"], { ...admin, input: "from stdin" });
    expect(created).toMatchObject({ name: "nightly", queue: "nightly-q", cron: "0 3 * * *", timeZone: "Europe/Paris", enabled: true, payload: Buffer.from("from stdin").toString("base64"), metadata: { a: "b" } });
    await run("schedule", "create", "off", "-q", "nightly-q", "--cron", "*/5 * * * *", "--disabled", "payload");
    const listed = (await run("schedule", "list", "-q", "nightly-q")) as { schedules: { name: string; enabled?: boolean }[] };
    expect(listed.schedules.map((s) => [s.name, s.enabled ?? false])).toEqual([["nightly", true], ["off", false]]);
    expect((await raw("schedule", "list")).stdout).toMatch(/^NAME\s+QUEUE\s+CRON.*\nnightly\s+nightly-q\s+0 3 \* \* \*\s+Europe\/Paris\s+yes/);
    expect((await raw("schedule", "create", "bad", "-q", "nightly-q", "--cron", "every day", "x")).code).toBe(2);
    expect(await run("schedule", "delete", "off")).toEqual({ deleted: "off" });
    expect((await raw("schedule", "delete", "off")).code).toBe(3);
  });

  it("lists and drains workers, and shows the cluster", async () => {
    await run("queue", "create", "wq");
    const worker = await RawWorker.register(c, ["wq"], 3);
    try {
      const listed = (await run("worker", "list", "-q", "wq")) as { workers: { id: string; status: string; concurrency: number }[] };
      expect(listed.workers).toEqual([expect.objectContaining({ id: worker.id, status: "WORKER_STATUS_ONLINE", concurrency: 3 })]);
      expect((await raw("worker", "list", "--status", "online")).stdout).toMatch(new RegExp(`^ID\\s+STATUS.*\\n${worker.id}\\s+online\\s+test\\s+wq\\s+0/3`));
      expect(await run("worker", "drain", worker.id)).toMatchObject({ id: worker.id, status: "WORKER_STATUS_DRAINING" });
      expect((await run("worker", "list", "--status", "online")) as object).toEqual({});
      expect((await raw("worker", "drain", "0190a0a0-0000-7000-8000-000000000000")).code).toBe(3);
    } finally {
      worker.close();
    }
    const cluster = (await run("cluster", "status")) as { nodes: { role: string; alive: boolean }[] };
    expect(cluster.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ role: "NODE_ROLE_API", alive: true })]));
    expect((await raw("cluster", "status")).stdout).toMatch(/^leader: .*\nNODE\s+ROLE\s+LEADER\s+ALIVE.*\n\S+\s+api\s+/);
  });

  it("prints bash and zsh completion that completes commands and flags in a real bash", async () => {
    const complete = async (words: string[]) => {
      const script = `source <("${process.execPath}" "${CLI_ENTRY}" completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _jqctl; echo "\${COMPREPLY[*]}"`;
      const { stdout } = await promisify(execFile)("bash", ["-c", script]);
      return stdout.trim().split(" ");
    };
    expect(await complete(["jqctl", ""])).toEqual([
      ...["queue", "job", "dlq", "worker", "schedule", "cluster", "completion"],
      ...["--address", "--api-key", "--tls", "--ca-file", "--cert-file", "--key-file", "--deadline", "--json", "--help"],
    ]);
    expect(await complete(["jqctl", "q"])).toEqual(["queue"]);
    expect(await complete(["jqctl", "queue", "p"])).toEqual(["pause"]);
    expect(await complete(["jqctl", "--json", "dlq", "requeue", "--a"])).toEqual(["--all", "--address", "--api-key"]);
    expect(await complete(["jqctl", "job", "submit", "--pay"])).toEqual(["--payload-file"]);
    const zsh = await cli(["completion", "zsh"]);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toContain("bashcompinit");
    expect(zsh.stdout).toContain("complete -F _jqctl jqctl");
    expect((await cli(["completion", "fish"])).code).toBe(2);
  });
});
