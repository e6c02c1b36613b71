import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const artifacts = fileURLToPath(new URL("../../test-results/", import.meta.url));

/** The dashboard in a real headless Chromium (Debian's), as an operator would see it. */
describe("dashboard in a browser", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let health: AppProcess;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url);
    health = startApp("health", { JQ_DATABASE_URL: db.url });
    await health.ready();
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  });
  afterAll(async () => {
    await browser?.close();
    expect(await health.stop()).toBe(0);
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  it("shows a queue's depth change after jobs are submitted, without a reload", async () => {
    const c = api.client();
    await c.call(c.admin, "createQueue", { name: "browser", paused: true });
    const port = await health.ready();
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(`http://127.0.0.1:${port}/`)) blocked.push(r.url());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    const pending = page.locator("#queues tr", { hasText: "browser" }).locator("td").nth(2);
    await pending.waitFor({ timeout: 15_000 });
    expect(await pending.textContent()).toBe("0");

    await c.call(c.jobs, "submitJobs", { jobs: Array.from({ length: 7 }, () => jobRequest("browser")) });
    // Runs in the page; typed by hand because this tsconfig has no DOM library.
    type Row = { children: ArrayLike<{ textContent: string | null }> };
    await page.waitForFunction(
      () => {
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<Row> } }).document;
        return Array.from(doc.querySelectorAll("#queues tr")).some((tr) => tr.children[0]?.textContent === "browser" && tr.children[2]?.textContent === "7");
      },
      undefined,
      { timeout: 15_000 },
    );
    expect(await pending.textContent()).toBe("7");
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}dashboard.png`, fullPage: true });
    // Self-contained: the page asked for nothing outside the health process.
    expect(blocked).toEqual([]);
    await page.close();
  });
});
