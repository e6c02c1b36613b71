import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type AppProcess } from "../support/app-process.js";
import { startApi, type RunningApi } from "../support/api.js";
import { dashboardGet, dashboardPost } from "../support/dashboard.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { RawWorker } from "../support/raw-worker.js";

const KEYS = { client: "ck-dash-0123456789", admin: "ak-dash-0123456789", all: "all-dash-0123456789" } as const;
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const API_KEYS = `app:client:${sha(KEYS.client)},ops:admin:${sha(KEYS.admin)},tests:client+worker+admin:${sha(KEYS.all)}`;
const UNKNOWN = "0190f5b2-7c1a-7d3e-8f00-123456789abc";

/** Every action with a body that passes validation (the targets need not exist). */
const ACTIONS: readonly [string, Record<string, unknown>][] = [
  // Resume before pause, so the queue is paused again afterwards.
  ["/api/queues/resume", { queue: "acts" }],
  ["/api/queues/pause", { queue: "acts" }],
  ["/api/jobs/cancel", { jobId: UNKNOWN }],
  ["/api/jobs/retry", { jobId: UNKNOWN }],
  ["/api/dead-letters/requeue", { queue: "acts", all: true }],
  ["/api/dead-letters/purge", { queue: "acts", jobIds: [UNKNOWN] }],
  ["/api/workers/drain", { workerId: UNKNOWN }],
];

/** The dashboard's JSON endpoints over HTTP: who may act, what bad input gets, and what an action writes. */
describe("dashboard actions over HTTP", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let keyed: AppProcess;
  let readOnly: AppProcess;
  let open: AppProcess;
  let base: string;
  const c = () => api.client(KEYS.all);

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db.url, { JQ_API_KEYS: API_KEYS });
    keyed = startApp("health", { JQ_DATABASE_URL: db.url, JQ_API_KEYS: API_KEYS });
    readOnly = startApp("health", { JQ_DATABASE_URL: db.url });
    open = startApp("health", { JQ_DATABASE_URL: db.url, JQ_HEALTH_ACTIONS_WITHOUT_KEYS: "true" });
    base = `http://127.0.0.1:${await keyed.ready()}`;
    await Promise.all([readOnly.ready(), open.ready()]);
    await c().call(c().admin, "createQueue", { name: "acts", paused: true });
  });
  afterAll(async () => {
    for (const app of [keyed, readOnly, open]) expect(await app?.stop()).toBe(0);
    expect(await api.stop()).toBe(0);
    await db.drop();
  });

  const submit = async (queue: string, over: Parameters<typeof jobRequest>[1] = {}) =>
    (await c().call(c().jobs, "submitJob", jobRequest(queue, over))).job!.id;
  const events = async (jobId: string) =>
    (
      await db.pool.query(
        `SELECT e.event_type, e.from_status, e.to_status, e.reason, e.message, e.attempt, e.worker_id
         FROM job_events e WHERE e.job_id = $1 ORDER BY e.id`,
        [jobId],
      )
    ).rows;
  const statusOf = async (jobId: string) => (await db.pool.query("SELECT status, status_reason FROM jobs WHERE id = $1", [jobId])).rows[0];

  it("tells the page how actions are guarded", async () => {
    expect((await dashboardGet(base, "/api/session")).body).toEqual({ actions: "api-keys" });
    expect((await dashboardGet(`http://127.0.0.1:${await readOnly.ready()}`, "/api/session")).body).toEqual({ actions: "read-only" });
    expect((await dashboardGet(`http://127.0.0.1:${await open.ready()}`, "/api/session")).body).toEqual({ actions: "open" });
  });

  it.each(ACTIONS)("%s needs an admin key", async (path, body) => {
    const none = await dashboardPost(base, path, body);
    expect(none.status).toBe(401);
    expect(none.body.error).toEqual({ code: "unauthenticated", message: "missing API key: send `authorization: Bearer <key>`" });
    expect((await dashboardPost(base, path, body, { key: "not-a-key" })).body.error?.code).toBe("unauthenticated");
    expect((await dashboardPost(base, path, body, { headers: { authorization: KEYS.admin } })).body.error?.message).toMatch(/malformed/);
    const client = await dashboardPost(base, path, body, { key: KEYS.client });
    expect(client.status).toBe(403);
    expect(client.body.error).toEqual({ code: "permission_denied", message: "API key app lacks the role this call needs (one of: admin)" });
    // Admitted: what follows is the action's own answer (here: the target does not exist, or it worked).
    expect([200, 404]).toContain((await dashboardPost(base, path, body, { key: KEYS.admin })).status);
  });

  it("is read-only without keys, and open only when JQ_HEALTH_ACTIONS_WITHOUT_KEYS says so", async () => {
    const ro = `http://127.0.0.1:${await readOnly.ready()}`;
    for (const [path, body] of ACTIONS) {
      const r = await dashboardPost(ro, path, body, { key: KEYS.admin });
      expect(r.status, path).toBe(403);
      expect(r.body.error?.code, path).toBe("read_only");
      expect(r.body.error?.message).toMatch(/JQ_HEALTH_ACTIONS_WITHOUT_KEYS=true/);
    }
    expect((await c().call(c().admin, "getQueue", { name: "acts" })).queue!.paused).toBe(true);
    const op = `http://127.0.0.1:${await open.ready()}`;
    const resumed = await dashboardPost(op, "/api/queues/resume", { queue: "acts" });
    expect(resumed).toMatchObject({ status: 200, body: { queue: { name: "acts", paused: false } } });
    expect((await dashboardPost(op, "/api/queues/pause", { queue: "acts" })).body).toMatchObject({ queue: { paused: true } });
    expect(open.logs.some((l) => String(l.msg).includes("NO API KEYS CONFIGURED"))).toBe(true);
  });

  it("refuses bad input with one clear JSON error", async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) => dashboardPost(base, path, body, { key: KEYS.admin, headers });
    const pending = await submit("acts");
    const cases: [Promise<Awaited<ReturnType<typeof post>>>, number, string, RegExp][] = [
      [post("/api/queues/pause", "not json{"), 400, "invalid_argument", /^body: is not valid JSON/],
      [post("/api/queues/pause", [1]), 400, "invalid_argument", /^body: must be a JSON object/],
      [post("/api/queues/pause", "queue=acts", { "content-type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type", /content-type: application\/json/],
      [post("/api/queues/pause", {}), 400, "invalid_argument", /^queue: /],
      [post("/api/queues/pause", { queue: "no spaces" }), 400, "invalid_argument", /^queue: must match/],
      [post("/api/queues/pause", { queue: "acts", extra: 1 }), 400, "invalid_argument", /^body: has unknown field\(s\): extra/],
      [post("/api/queues/pause", { queue: "missing" }), 404, "not_found", /queue "missing" not found/],
      [post("/api/jobs/retry", { jobId: "42" }), 400, "invalid_argument", /^jobId: must be a UUID/],
      [post("/api/jobs/retry", { jobId: UNKNOWN }), 404, "not_found", /job ".*" not found/],
      [post("/api/jobs/retry", { jobId: pending }), 409, "failed_precondition", /is PENDING; only FAILED, DEAD_LETTERED jobs can be retried/],
      [post("/api/jobs/cancel", { jobId: pending, message: "x".repeat(1025) }), 400, "resource_exhausted", /^message: 1025 characters exceeds/],
      [post("/api/dead-letters/requeue", { queue: "acts" }), 400, "invalid_argument", /^jobIds: must name at least one job, or send all: true/],
      [post("/api/dead-letters/purge", { queue: "acts", jobIds: ["x"] }), 400, "invalid_argument", /^jobIds\[0\]: must be a UUID/],
      [post("/api/dead-letters/purge", { queue: "nope", all: true }), 404, "not_found", /queue "nope" not found/],
      [post("/api/workers/drain", { workerId: UNKNOWN }), 404, "not_found", /worker/],
      [post("/api/queues/pause", { queue: "acts", pad: "x".repeat(70_000) }), 413, "resource_exhausted", /exceeds the limit of 65536 bytes/],
      [post("/api/queues/pause", { queue: "acts" }, { origin: "https://evil.example" }), 403, "foreign_origin", /evil\.example/],
    ];
    for (const [answer, status, code, message] of cases) {
      const { status: got, body } = await answer;
      expect({ got, code: body.error?.code }, body.error?.message).toEqual({ got: status, code });
      expect(body.error?.message).toMatch(message);
    }
    const get = await fetch(`${base}/api/queues/pause`);
    expect(get.status).toBe(405);
    expect(((await get.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    expect(get.headers.get("allow")).toBe("POST");
    // Nothing above changed the job.
    expect(await statusOf(pending)).toEqual({ status: "PENDING", status_reason: "SUBMITTED" });
  });

  it("cancel and retry write the same events as CancelJob and RetryJob", async () => {
    const [viaGrpc, viaDashboard] = [await submit("acts"), await submit("acts")];
    await c().call(c().jobs, "cancelJob", { jobId: viaGrpc, message: "not needed" });
    const cancelled = await dashboardPost(base, "/api/jobs/cancel", { jobId: viaDashboard, message: "not needed" }, { key: KEYS.admin });
    expect(cancelled.body).toMatchObject({ job: { id: viaDashboard, status: "DEAD_LETTERED", statusReason: "CANCELLED" } });
    await c().call(c().jobs, "retryJob", { jobId: viaGrpc });
    const retried = await dashboardPost(base, "/api/jobs/retry", { jobId: viaDashboard }, { key: KEYS.admin });
    expect(retried.body).toMatchObject({ job: { id: viaDashboard, status: "PENDING", statusReason: "RETRIED_MANUALLY" } });
    const [a, b] = [await events(viaGrpc), await events(viaDashboard)];
    expect(b).toEqual(a);
    expect(b.map((e) => `${e.event_type} ${e.reason}`)).toEqual(["job.submitted SUBMITTED", "job.cancelled CANCELLED", "job.retry_scheduled RETRIED_MANUALLY"]);
    const audit = keyed.logs.filter((l) => l.msg === "dashboard action");
    expect(audit).toContainEqual(expect.objectContaining({ action: "/api/jobs/retry", principal: "ops", target: viaDashboard }));
    for (const key of Object.values(KEYS)) expect(JSON.stringify(keyed.logs)).not.toContain(key);
  });

  it("requeues and purges dead letters, one or all of a queue", async () => {
    await c().call(c().admin, "createQueue", { name: "dlq", paused: true });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await submit("dlq"));
    for (const id of ids) await c().call(c().jobs, "cancelJob", { jobId: id, message: "" });
    const post = (path: string, body: unknown) => dashboardPost(base, path, body, { key: KEYS.admin });

    expect((await post("/api/dead-letters/requeue", { queue: "dlq", jobIds: [ids[0]] })).body).toEqual({ requeued: 1 });
    expect(await statusOf(ids[0]!)).toEqual({ status: "PENDING", status_reason: "RETRIED_MANUALLY" });
    expect((await post("/api/dead-letters/purge", { queue: "dlq", jobIds: [ids[1]] })).body).toEqual({ purged: 1 });
    expect(await statusOf(ids[1]!)).toBeUndefined();
    expect((await dashboardGet(base, `/api/job?id=${ids[1]}`)).status).toBe(404);
    expect((await post("/api/dead-letters/requeue", { queue: "dlq", jobIds: [ids[2]] })).body).toEqual({ requeued: 1 });
    expect((await post("/api/dead-letters/purge", { queue: "dlq", all: true })).body).toEqual({ purged: 2 });
    expect((await post("/api/dead-letters/requeue", { queue: "dlq", all: true })).body).toEqual({ requeued: 0 });
    const left = (await db.pool.query("SELECT status, count(*)::int AS n FROM jobs WHERE queue = 'dlq' GROUP BY status")).rows;
    expect(left).toEqual([{ status: "PENDING", n: 2 }]);
    // The requeue was recorded as RequeueDeadLetters records it.
    expect((await events(ids[0]!)).at(-1)).toMatchObject({ event_type: "job.retry_scheduled", from_status: "DEAD_LETTERED", to_status: "PENDING", reason: "RETRIED_MANUALLY" });
  });

  it("pauses and resumes a queue, and drains a worker (which is told at once)", async () => {
    const post = (path: string, body: unknown) => dashboardPost(base, path, body, { key: KEYS.admin });
    await c().call(c().admin, "createQueue", { name: "ops", paused: false });
    expect((await post("/api/queues/pause", { queue: "ops" })).body).toMatchObject({ queue: { name: "ops", paused: true } });
    expect((await c().call(c().admin, "getQueue", { name: "ops" })).queue!.paused).toBe(true);
    expect((await post("/api/queues/resume", { queue: "ops" })).body).toMatchObject({ queue: { paused: false } });
    expect((await c().call(c().admin, "getQueue", { name: "ops" })).queue!.paused).toBe(false);

    const worker = (await RawWorker.register(c(), ["ops"], 1)).open();
    try {
      const listed = await dashboardGet<{ workers: { workerId: string; status: string }[] }>(base, "/api/workers");
      expect(listed.body.workers).toContainEqual(expect.objectContaining({ workerId: worker.id, status: "ONLINE" }));
      expect((await post("/api/workers/drain", { workerId: worker.id })).body).toMatchObject({ worker: { workerId: worker.id, status: "DRAINING" } });
      await worker.until(() => worker.drains.length === 1, 10_000, "the drain message");
      const statuses = (await dashboardGet<{ workers: { workerId: string }[] }>(base, "/api/workers?status=DRAINING")).body.workers;
      expect(statuses.map((w) => w.workerId)).toEqual([worker.id]);
    } finally {
      worker.close();
    }
  });

  it("pages a queue's jobs by keyset, filtered by status", async () => {
    await c().call(c().admin, "createQueue", { name: "pages", paused: true });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await submit("pages"));
    await c().call(c().jobs, "cancelJob", { jobId: ids[3]!, message: "" });
    type Page = { jobs: { id: string; status: string }[]; next: string | null };
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const after: string = next === null ? "" : `&after=${encodeURIComponent(next)}`;
      const page: { body: Page } = await dashboardGet<Page>(base, `/api/jobs?queue=pages&limit=3${after}`);
      seen.push(...page.body.jobs.map((j) => j.id));
      next = page.body.next;
      pages++;
    } while (next !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const pending = await dashboardGet<Page>(base, "/api/jobs?queue=pages&status=PENDING&limit=4");
    expect(pending.body.jobs.map((j) => j.status)).toEqual(["PENDING", "PENDING", "PENDING", "PENDING"]);
    expect((await dashboardGet<Page>(base, "/api/jobs?queue=pages&status=DEAD_LETTERED")).body).toEqual({
      jobs: [expect.objectContaining({ id: ids[3], status: "DEAD_LETTERED" })],
      next: null,
    });
    // A token belongs to its filters; bad filters are named.
    const bad = [
      [`/api/jobs?queue=pages&status=DONE&after=${encodeURIComponent(pending.body.next!)}`, /^after: belongs to a request with different filters/],
      ["/api/jobs?queue=pages&after=garbage", /^after: is not a token this server issued/],
      ["/api/jobs?status=SLEEPING", /^status: must be one of PENDING/],
      ["/api/jobs?limit=501", /^limit: 501 items exceeds the limit of 500 items/],
      ["/api/jobs?limit=-1", /^limit: must be a non-negative integer/],
      ["/api/jobs?queue=a%20b", /^queue: must match/],
      ["/api/job?id=nope", /^id: must be a UUID/],
    ] as const;
    for (const [path, message] of bad) {
      const r = await dashboardGet(base, path);
      expect(r.status, path).toBe(400);
      expect(r.body.error?.message, path).toMatch(message);
    }
  });

  it("shows a job with a capped payload preview, text or hex, and its timeline", async () => {
    type JobPage = {
      job: { id: string; status: string };
      payload: { size: number; truncated: boolean; kind: string; text: string };
      result: unknown;
      attempts: unknown[];
      events: { type: string; reason: string }[];
    };
    const big = await submit("acts", { payload: Buffer.from("x".repeat(10_000)) });
    const binary = await submit("acts", { payload: Buffer.from([0, 1, 2, 0xff]) });
    const json = await submit("acts", { payload: Buffer.from('{"to":"ops@example.com"}') });
    const b = (await dashboardGet<JobPage>(base, `/api/job?id=${big}`)).body;
    expect(b.payload).toMatchObject({ size: 10_000, truncated: true, kind: "text" });
    expect(b.payload.text).toBe("x".repeat(4096));
    expect(b.result).toBeNull();
    expect(b.attempts).toEqual([]);
    expect(b.events).toEqual([expect.objectContaining({ type: "job.submitted", reason: "SUBMITTED" })]);
    expect((await dashboardGet<JobPage>(base, `/api/job?id=${binary}`)).body.payload).toEqual({
      size: 4,
      truncated: false,
      kind: "hex",
      text: `00000000  00 01 02 ff${" ".repeat(12 + 2 + 23 + 2)}|....|`,
    });
    expect((await dashboardGet<JobPage>(base, `/api/job?id=${json}`)).body.payload).toMatchObject({ kind: "json", text: '{\n  "to": "ops@example.com"\n}' });
    expect((await dashboardGet(base, `/api/job?id=${UNKNOWN}`)).status).toBe(404);
  });

  it("counts what finished and samples latency, from jobs a worker runs", async () => {
    await c().call(c().admin, "createQueue", { name: "runs", paused: false });
    const worker = (await RawWorker.register(c(), ["runs"], 10)).open();
    try {
      for (let i = 0; i < 5; i++) await submit("runs", { payload: Buffer.from(`job ${i}`) });
      await worker.until(() => worker.assignments.length === 5, 15_000, "5 assignments");
      const acks = worker.assignments.map((a, i) => (i < 3 ? worker.succeed(a) : worker.fail(a, "bad input", false)));
      for (const seq of acks) await worker.ackOf(seq);
    } finally {
      worker.close();
    }
    type Series = { succeeded: (number | null)[]; failed: (number | null)[]; latencyMs: { p50: (number | null)[]; samples: number[] } };
    const sum = (xs: (number | null)[]) => xs.reduce<number>((a, x) => a + (x ?? 0), 0);
    let series: Series | undefined;
    const deadline = Date.now() + 20_000;
    // The jobs finished within the last interval; the sample after it counts them, once.
    do {
      await new Promise((r) => setTimeout(r, 1_000));
      series = (await dashboardGet<Series>(base, "/api/series")).body;
    } while ((sum(series.succeeded) < 3 || sum(series.failed) < 2) && Date.now() < deadline);
    expect({ succeeded: sum(series.succeeded), failed: sum(series.failed) }).toEqual({ succeeded: 3, failed: 2 });
    expect(sum(series.latencyMs.samples)).toBe(5);
    expect(series.latencyMs.p50.some((v) => v !== null && v >= 0)).toBe(true);
  });

  it("samples backlog into a 15-minute series", async () => {
    type Series = { t: number[]; windowSeconds: number; backlog: { queue: string; pending: (number | null)[] }[]; succeededPerSecond: unknown[] };
    const deadline = Date.now() + 20_000;
    let series: Series;
    for (;;) {
      series = (await dashboardGet<Series>(base, "/api/series")).body;
      if (series.backlog.some((b) => b.queue === "pages" && b.pending.at(-1) === 6)) break;
      if (Date.now() > deadline) throw new Error(`no backlog sample of queue pages: ${JSON.stringify(series)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(series.windowSeconds).toBe(900);
    expect(series.succeededPerSecond).toHaveLength(series.t.length);
  });
});
