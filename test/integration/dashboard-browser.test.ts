import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NonRetryableError, Worker } from "../../libs/worker-sdk/index.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/eventually.js";

const artifacts = fileURLToPath(new URL("../../test-results/", import.meta.url));
const KEYS = { admin: "ak-browser-0123456789", all: "all-browser-0123456789" } as const;
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const API_KEYS = `ops:admin:${sha(KEYS.admin)},tests:client+worker+admin:${sha(KEYS.all)}`;

/** Polls `check` until it holds; fails with `what` after `timeoutMs` (the suite's one wait helper). */
const until = (check: () => Promise<boolean>, what: string, timeoutMs = 20_000) => eventually(what, check, timeoutMs, 200);
const textIs = (l: Locator, text: string) => async () => (await l.textContent())?.trim() === text;

/**
 * The dashboard in a real headless Chromium (Debian's), as an operator would use it, against a
 * real API, a real worker (the SDK) and the health process: browse to a job, retry it and see it
 * run, requeue a dead letter, pause a queue and see dispatch stop. A screenshot of each page goes
 * to test-results/.
 */
describe("dashboard in a browser", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let health: AppProcess;
  let browser: Browser;
  let worker: Worker;
  let page: Page;
  let base: string;
  const handled: { queue: string; id: string; attempt: number }[] = [];
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];
  const failedResponses: string[] = [];
  const c = () => api.client(KEYS.all);

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_API_KEYS: API_KEYS });
    health = startApp("health", { JQ_DATABASE_URL: db.url, JQ_API_KEYS: API_KEYS });
    base = `http://127.0.0.1:${await health.ready()}/`;
    for (const name of ["web", "flow"]) await c().call(c().admin, "createQueue", { name, paused: false });
    worker = new Worker({
      address: api.address,
      apiKey: KEYS.all,
      queues: ["web", "flow"],
      concurrency: 4,
      handler: async (job) => {
        handled.push({ queue: job.queue, id: job.id, attempt: job.attempt });
        // A job that fails its first delivery for good, and succeeds when an operator sends it back.
        if (job.payload.toString().startsWith("fail-first") && job.attempt === 1) throw new NonRetryableError("boom on the first try");
        return `done: ${job.payload.toString().slice(0, 40)}`;
      },
    });
    await worker.start();
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    page.on("dialog", (d) => void d.accept());
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreignRequests.push(r.url());
    });
    page.on("response", (r) => {
      // Refused actions (401 without a key) are expected; nothing else may fail.
      if (r.status() >= 400 && !(r.status() === 401 && r.url().includes("/api/"))) failedResponses.push(`${r.status()} ${r.url()}`);
    });
    mkdirSync(artifacts, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    expect(await health.stop()).toBe(0);
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  const shot = (name: string) => page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true });
  const queueRow = (name: string) => page.locator("#queues tr").filter({ has: page.locator("td:first-child", { hasText: new RegExp(`^${name}$`) }) });
  const jobField = (field: string) => page.locator("#jobFields tr").filter({ has: page.locator("td:first-child", { hasText: new RegExp(`^${field}$`) }) }).locator("td").nth(1);
  const jobStatus = async (id: string) => (await c().call(c().jobs, "getJobStatus", { jobId: id, view: 0 })).job!;
  const submit = async (queue: string, payload: string) => (await c().call(c().jobs, "submitJob", jobRequest(queue, { payload: Buffer.from(payload) }))).job!.id;
  const statusInDb = async (id: string) => (await db.pool.query("SELECT status FROM jobs WHERE id = $1", [id])).rows[0]?.status as string | undefined;
  const deadLettered = (id: string) => until(async () => (await statusInDb(id)) === "DEAD_LETTERED", `job ${id} dead-lettered`);
  const enterKey = async (key: string) => page.locator("#apiKey").fill(key);

  it("shows a queue's depth change after jobs are submitted, without a reload", async () => {
    await c().call(c().admin, "createQueue", { name: "browser", paused: true });
    await page.goto(base);
    const pending = queueRow("browser").locator("td").nth(2);
    await pending.waitFor({ timeout: 15_000 });
    expect(await pending.textContent()).toBe("0");
    await c().call(c().jobs, "submitJobs", { jobs: Array.from({ length: 7 }, () => jobRequest("browser")) });
    await until(textIs(pending, "7"), "7 PENDING jobs on the page");
    expect(await page.locator("#mode").textContent()).toBe("actions need an admin key");
    await shot("dashboard");
  });

  it("browses to a failed job and retries it; the worker runs it", async () => {
    const id = await submit("web", "fail-first: send the invoice");
    await deadLettered(id);
    // From the overview's count of dead letters into the job browser, then to the job.
    const dlqCount = queueRow("web").locator("td").nth(7);
    await until(textIs(dlqCount, "1"), "one dead letter of queue web");
    await dlqCount.locator("a").click();
    const jobLink = page.locator("#jobList a", { hasText: id });
    await jobLink.waitFor({ timeout: 10_000 });
    expect(page.url()).toMatch(/#\/jobs\?queue=web&status=DEAD_LETTERED$/);
    await shot("jobs");
    await jobLink.click();
    await until(textIs(jobField("status"), "DEAD_LETTERED"), "the job page");
    expect(await page.locator("#payload").textContent()).toBe("fail-first: send the invoice");
    expect(await page.locator("#result").textContent()).toBe("boom on the first try");
    await until(async () => (await page.locator("#events tr").count()) === 1 + 5, "5 events in the timeline (and the header)");
    expect(await page.locator("#events tr td:nth-child(3)").allTextContents()).toEqual(["job.submitted", "job.assigned", "job.started", "job.failed", "job.dead_lettered"]);
    await shot("job");

    // Without a key the action is refused, and the page says why.
    await page.locator("#jobActions button[data-action=retry]").click();
    await until(async () => /refused: missing API key/.test((await page.locator("#notice").textContent()) ?? ""), "the refusal notice");
    expect((await jobStatus(id)).attempt).toBe(1);

    await enterKey(KEYS.admin);
    await page.locator("#jobActions button[data-action=retry]").click();
    await until(textIs(jobField("status"), "DONE"), "the retried job DONE on its page");
    expect(await page.locator("#result").textContent()).toBe("done: fail-first: send the invoice");
    await until(async () => (await page.locator("#attempts tr").count()) === 1 + 2, "two attempts (and the header)");
    expect(await page.locator("#attempts tr td:nth-child(6)").allTextContents()).toEqual(["FAILED", "SUCCEEDED"]);
    expect(await page.locator("#events tr td:nth-child(6)").allTextContents()).toContain("RETRIED_MANUALLY");
    expect(handled.filter((h) => h.id === id).map((h) => h.attempt)).toEqual([1, 2]);
    await shot("job-retried");
  });

  it("requeues a dead letter from the overview; the worker runs it", async () => {
    const id = await submit("web", "fail-first: resize the image");
    await deadLettered(id);
    await page.locator("#nav-overview").click();
    const row = page.locator("#deadLetters tr", { hasText: id });
    await row.waitFor({ timeout: 10_000 });
    await row.locator("button[data-action=requeue]").click();
    await until(async () => /1 requeued/.test((await page.locator("#notice").textContent()) ?? ""), "the requeue notice");
    await until(async () => (await statusInDb(id)) === "DONE", "the requeued job DONE");
    await until(async () => (await page.locator("#deadLetters tr", { hasText: id }).count()) === 0, "the dead letter gone from the list");
    const events = (await db.pool.query("SELECT reason FROM job_events WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
    expect(events).toEqual(["SUBMITTED", "CLAIMED", "DELIVERED", "FAILED", "NOT_RETRYABLE", "RETRIED_MANUALLY", "CLAIMED", "DELIVERED", "SUCCEEDED"]);
    await shot("dead-letter-requeued");
  });

  it("pauses a queue and dispatch stops; resuming runs the backlog", async () => {
    await page.locator("#nav-overview").click();
    const row = queueRow("flow");
    await row.locator("button[data-action=pause]").click();
    await until(textIs(row.locator("td").nth(1), "paused"), "queue flow shown paused");
    expect((await c().call(c().admin, "getQueue", { name: "flow" })).queue!.paused).toBe(true);

    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await submit("flow", `flow job ${i}`));
    await until(textIs(row.locator("td").nth(2), "5"), "5 PENDING in flow");
    // The worker is online with free slots; a paused queue hands it nothing. A later job of its
    // other queue shows a claim has run since: it would have taken the older flow jobs first.
    const probe = await submit("web", "after the paused ones");
    await until(async () => handled.some((h) => h.id === probe), "the web job submitted after the paused ones");
    expect(handled.filter((h) => h.queue === "flow")).toEqual([]);
    const statuses = (await db.pool.query("SELECT status, count(*)::int AS n FROM jobs WHERE queue = 'flow' GROUP BY status")).rows;
    expect(statuses).toEqual([{ status: "PENDING", n: 5 }]);
    await shot("queue-paused");

    await row.locator("button[data-action=resume]").click();
    await until(textIs(row.locator("td").nth(5), "5"), "5 DONE in flow after resuming");
    expect(await row.locator("td").nth(1).textContent()).toBe("—");
    expect(new Set(handled.filter((h) => h.queue === "flow").map((h) => h.id))).toEqual(new Set(ids));
  });

  it("lists workers and drains one; the worker finishes and leaves", async () => {
    await page.locator("#nav-workers").click();
    const row = page.locator("#workerList tr", { hasText: "ONLINE" });
    await row.waitFor({ timeout: 10_000 });
    await shot("workers");
    await row.locator("button[data-action=drain]").click();
    // The SDK drains (no new jobs, held ones finished), deregisters and resolves `drained`.
    await worker.drained;
    await until(async () => (await page.locator("#workerList tr", { hasText: "OFFLINE" }).count()) === 1, "the worker shown OFFLINE", 15_000);
    const listed = await c().call(c().admin, "listWorkers", { queue: "", statuses: [], pageSize: 0, pageToken: "" });
    expect(listed.workers.map((w) => w.status)).toEqual([3]);
    expect(health.logs).toContainEqual(expect.objectContaining({ msg: "dashboard action", action: "/api/workers/drain", principal: "ops" }));
  });

  it("draws throughput, backlog and latency from the sampled series, with nothing from elsewhere", async () => {
    await page.locator("#nav-overview").click();
    // Every sample is 5 s apart; the jobs above ran within the last few samples.
    await until(async () => {
      const series = (await (await fetch(`${base}api/series`)).json()) as { succeededPerSecond: (number | null)[]; latencyMs: { p50: (number | null)[] } };
      return series.succeededPerSecond.some((v) => (v ?? 0) > 0) && series.latencyMs.p50.some((v) => v !== null);
    }, "a sample with throughput and latency", 30_000);
    for (const chart of ["throughput", "backlog", "latency"]) {
      await until(async () => Number(await page.locator(`#chart-${chart}`).getAttribute("data-points")) >= 2, `${chart} chart points`, 15_000);
      expect(await page.locator(`#chart-${chart} canvas`).count(), chart).toBe(1);
    }
    expect(await page.locator("#chart-throughput .u-legend").textContent()).toMatch(/succeeded\/s.*failed\/s/);
    expect(await page.locator("#chart-backlog .u-legend").textContent()).toMatch(/browser/);
    await shot("overview");
    expect(foreignRequests).toEqual([]);
    expect(failedResponses).toEqual([]);
    // No CSP refusal or script error anywhere (a refusal is reported on the console); the one
    // console error allowed is Chromium's note of the expected 401.
    expect(pageErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });
});
