import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { CLI_ENTRY, CLI_TEST_TIMEOUT_MS, cli, cliJson, startCli } from "../support/cli.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";

interface JobJson {
  id: string;
  queue: string;
  status: string;
  payload?: string;
  metadata?: Record<string, string>;
  priority?: number;
}
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** jqctl's job and dead-letter commands, run as a child process against a real apps/api. */
describe("jqctl: jobs and dead letters", { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;
  let dir: string;
  const run = (...args: string[]) => cliJson(api.address, args);

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_HEARTBEAT_INTERVAL_MS: "1000", JQ_HEARTBEAT_TIMEOUT_MS: "60000" });
    c = api.client();
    dir = await mkdtemp(join(tmpdir(), "jqctl-"));
    await cliJson(api.address, ["queue", "create", "jobs"]);
  });
  afterAll(async () => {
    expect(await api.stop()).toBe(0);
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("submits a payload from an argument, a file and stdin, with options", async () => {
    const fromArg = await run("job", "submit", "-q", "jobs", "hello", "--metadata", "k=v", "--priority", "7", "--delay", "1h");
    expect(fromArg).toMatchObject({ job: { queue: "jobs", status: "JOB_STATUS_PENDING", payload: b64("hello"), metadata: { k: "v" }, priority: 7 } });
    await writeFile(join(dir, "p.bin"), Buffer.from([0, 1, 2, 255]));
    const fromFile = await run("job", "submit", "-q", "jobs", "--payload-file", join(dir, "p.bin"));
    expect((fromFile.job as JobJson).payload).toBe(Buffer.from([0, 1, 2, 255]).toString("base64"));
    const fromStdin = await cliJson(api.address, ["job", "submit", "-q", "jobs"], { input: '{"to":"a@b.c"}' });
    expect((fromStdin.job as JobJson).payload).toBe(b64('{"to":"a@b.c"}'));
    const again = await run("job", "submit", "-q", "jobs", "x", "--idempotency-key", "k1");
    const dedup = await run("job", "submit", "-q", "jobs", "y", "--idempotency-key", "k1");
    expect(dedup).toMatchObject({ deduplicated: true, job: { id: (again.job as JobJson).id } });

    // The table form prints the id and status on one line.
    const plain = await cli(["--address", api.address, "job", "submit", "-q", "jobs", "plain"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^[0-9a-f-]{36} {2}pending\n$/);
  });

  it("gets, lists, shows the log of, cancels and retries a job", async () => {
    const { job } = (await run("job", "submit", "-q", "jobs", "look at me")) as { job: JobJson };
    expect(await run("job", "get", job.id)).toMatchObject({ id: job.id, payload: b64("look at me") });
    const human = await cli(["--address", api.address, "job", "get", job.id]);
    expect(human.stdout).toMatch(/payload:\s+look at me/);

    const listed = await run("job", "list", "-q", "jobs", "--status", "pending", "--limit", "0");
    expect((listed.jobs as JobJson[]).map((j) => j.id)).toContain(job.id);
    expect((listed.jobs as JobJson[]).every((j) => j.status === "JOB_STATUS_PENDING")).toBe(true);
    const table = await cli(["--address", api.address, "job", "list", "-q", "jobs"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+PRIORITY/);

    expect(await run("job", "cancel", job.id, "-m", "not needed")).toMatchObject({ id: job.id, status: "JOB_STATUS_DEAD_LETTERED" });
    expect(await run("job", "retry", job.id)).toMatchObject({ id: job.id, status: "JOB_STATUS_PENDING" });
    const logs = (await run("job", "logs", job.id)) as { events: { type: string; message?: string }[] };
    expect(logs.events.map((e) => e.type)).toEqual(["JOB_EVENT_TYPE_SUBMITTED", "JOB_EVENT_TYPE_CANCELLED", "JOB_EVENT_TYPE_RETRY_SCHEDULED"]);
    expect(logs.events[1]!.message).toBe("not needed");

    // Errors: one line on stderr, the exit code of the class.
    const retryPending = await cli(["--address", api.address, "job", "retry", job.id]);
    expect(retryPending).toMatchObject({ code: 4, stdout: "" });
    expect(retryPending.stderr).toMatch(/^jqctl: FAILED_PRECONDITION: .+\n$/);
    const ghost = await cli(["--address", api.address, "job", "get", "0190a0a0-0000-7000-8000-000000000000"]);
    expect(ghost.code).toBe(3);
    expect(ghost.stderr).toMatch(/^jqctl: NOT_FOUND: /);
    expect((await cli(["--address", api.address, "job", "get", "not-a-uuid"])).code).toBe(2);
    expect((await cli(["--address", api.address, "job", "list"])).code).toBe(2);
  });

  it("watches a job until a worker finishes it (exit 0), and until it is cancelled (exit 8)", async () => {
    const { job } = (await run("job", "submit", "-q", "jobs", "--priority", "100", "work")) as { job: JobJson };
    const watch = startCli(["--address", api.address, "job", "watch", job.id]);
    const worker = await RawWorker.register(c, ["jobs"], 1);
    try {
      worker.open();
      await worker.until(() => worker.assignments.some((a) => a.jobId === job.id));
      worker.succeed(worker.assignments.find((a) => a.jobId === job.id)!, "the result");
      const res = await watch.done;
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/submitted .*\n.*assigned .*\n.*started .*\n.*succeeded .*\njob .* ended: done\n$/);
    } finally {
      worker.close();
    }
    expect(await run("job", "get", job.id)).toMatchObject({ status: "JOB_STATUS_DONE" });

    await cliJson(api.address, ["queue", "create", "idle"]);
    const { job: idle } = (await run("job", "submit", "-q", "idle")) as { job: JobJson };
    const watchJson = startCli(["--address", api.address, "--json", "job", "watch", idle.id]);
    await new Promise((r) => setTimeout(r, 500));
    await run("job", "cancel", idle.id);
    const ended = await watchJson.done;
    expect(ended.code).toBe(8);
    const doc = JSON.parse(ended.stdout) as { job: JobJson; events: { type: string }[] };
    expect(doc.job).toMatchObject({ id: idle.id, status: "JOB_STATUS_DEAD_LETTERED" });
    expect(doc.events.map((e) => e.type)).toEqual(["JOB_EVENT_TYPE_SUBMITTED", "JOB_EVENT_TYPE_CANCELLED"]);
  });

  it("submits an NDJSON file through SubmitJobs in batches, and refuses a bad line before sending anything", async () => {
    await cliJson(api.address, ["queue", "create", "bulk"]);
    const lines = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify(i % 3 === 0 ? { payload: { n: i } } : i % 3 === 1 ? { payload: `text ${i}`, priority: 2 } : { payloadBase64: b64(`raw ${i}`), metadata: { i: String(i) } }),
    );
    await writeFile(join(dir, "jobs.ndjson"), `${lines.join("\n")}\n`);
    const res = await cliJson<{ submitted: number; total: number; interrupted: boolean; jobIds: string[] }>(api.address, ["job", "submit", "-q", "bulk", "--file", join(dir, "jobs.ndjson"), "--batch-size", "500"]);
    expect(res).toMatchObject({ submitted: 1200, total: 1200, interrupted: false });
    expect(new Set(res.jobIds).size).toBe(1200);
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE queue = 'bulk'");
    expect(rows[0].n).toBe(1200);
    const first = await cliJson<JobJson>(api.address, ["job", "get", res.jobIds[0]!]);
    expect(Buffer.from(first.payload!, "base64").toString()).toBe('{"n":0}');

    // Lines from stdin, with their own queue; the plain output has no progress bar off a terminal.
    const piped = await cli(["--address", api.address, "job", "submit", "--file", "-"], { input: '{"queue":"bulk"}\n{"queue":"bulk","payload":"x"}\n' });
    expect(piped).toMatchObject({ code: 0, stderr: "", stdout: "submitted 2 of 2 jobs (0 deduplicated)\n" });

    // On a terminal (util-linux `script` gives it one), a progress bar is drawn on stderr.
    const command = [process.execPath, CLI_ENTRY, "--address", api.address, "job", "submit", "-q", "bulk", "--file", join(dir, "jobs.ndjson"), "--batch-size", "300"]
      .map((a) => `'${a}'`).join(" ");
    const tty = await promisify(execFile)("script", ["-qfec", command, "/dev/null"], { env: { PATH: process.env.PATH ?? "" } });
    expect(tty.stdout).toMatch(/submitting \[.*\] 1200\/1200 100%/);
    expect(tty.stdout).toContain("submitted 1200 of 1200 jobs (0 deduplicated)");
    expect((await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE queue = 'bulk'")).rows[0].n).toBe(2402);

    await writeFile(join(dir, "bad.ndjson"), '{"queue":"bulk"}\n{"queue":"bulk","colour":"red"}\n');
    const bad = await cli(["--address", api.address, "job", "submit", "--file", join(dir, "bad.ndjson")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.ndjson:2: /);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE queue = 'bulk'")).rows[0].n).toBe(2402);
  });

  it("lists, requeues (all, with Ctrl-C stopping cleanly) and purges dead letters", async () => {
    await cliJson(api.address, ["queue", "create", "dead"]);
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ payload: `d${i}` })).join("\n");
    await cliJson(api.address, ["job", "submit", "-q", "dead", "--file", "-"], { input: lines });
    // Arrange: every job dead-lettered (as cancelling each would, without 2000 calls).
    await db.pool.query("UPDATE jobs SET status = 'DEAD_LETTERED', status_reason = 'CANCELLED', completed_at = now() WHERE queue = 'dead'");

    const listed = (await run("dlq", "list", "-q", "dead", "--limit", "10")) as { jobs: JobJson[]; nextPageToken: string };
    expect(listed.jobs).toHaveLength(10);
    expect(listed.nextPageToken).not.toBe("");
    expect((await cli(["--address", api.address, "dlq", "requeue", "-q", "dead"])).code).toBe(2);

    const pending = async () => (await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE queue = 'dead' AND status = 'PENDING'")).rows[0].n as number;
    const requeue = startCli(["--address", api.address, "--json", "dlq", "requeue", "-q", "dead", "--all", "--batch-size", "1"]);
    const deadline = Date.now() + 20_000;
    while ((await pending()) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    requeue.child.kill("SIGINT");
    const stopped = await requeue.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain("stopping after the current batch");
    const partial = JSON.parse(stopped.stdout) as { requeuedCount: number; interrupted: boolean };
    expect(partial.interrupted).toBe(true);
    expect(partial.requeuedCount).toBeGreaterThanOrEqual(20);
    expect(partial.requeuedCount).toBeLessThan(2000);
    // What it reports is exactly what happened.
    expect(await pending()).toBe(partial.requeuedCount);

    const rest = await run("dlq", "requeue", "-q", "dead", "--all");
    expect(rest).toEqual({ requeuedCount: 2000 - partial.requeuedCount, interrupted: false });
    expect(await pending()).toBe(2000);

    const ids = (listed.jobs).slice(0, 3).map((j) => j.id);
    for (const id of ids) await run("job", "cancel", id);
    expect(await run("dlq", "requeue", "-q", "dead", "--job", ids[0]!)).toEqual({ requeuedCount: 1, interrupted: false });
    expect((await cli(["--address", api.address, "dlq", "purge", "-q", "dead"])).code).toBe(2);
    expect(await run("dlq", "purge", "-q", "dead", "--all", "--reason", "cancelled")).toEqual({ purgedCount: 2 });
    const table = await cli(["--address", api.address, "dlq", "list", "-q", "dead"]);
    expect(table).toMatchObject({ code: 0, stdout: "ID  REASON  ATTEMPT  COMPLETED  ERROR\n" });
  });
});
