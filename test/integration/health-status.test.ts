import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { JqClient } from "../../libs/client/index.js";
import type { ClusterView } from "../../libs/cluster-view/index.js";
import { startApi, type RunningApi } from "../support/api.js";
import { startApp, type AppProcess } from "../support/app-process.js";
import { jobRequest } from "../support/job-requests.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

/** apps/health's cluster view (SPEC §8): /status, its gauges, the dashboard, and dependency errors. */
describe("apps/health cluster view", () => {
  let db: TestDatabase;
  let api: RunningApi;
  let c: JqClient;
  let scheduler: AppProcess;
  let health: AppProcess;
  let healthNoKafka: AppProcess;
  let base: string;
  let baseNoKafka: string;

  beforeAll(async () => {
    const bed = inject("testBed");
    db = await createTestDatabase();
    const common = { JQ_DATABASE_URL: db.url, JQ_PRESENCE_INTERVAL_MS: "200" };
    api = await startApi(db.url, { ...common, JQ_NODE_ID: "api-1" });
    c = api.client();
    // No Kafka for the scheduler: nothing relays, so the outbox keeps what the test writes.
    scheduler = startApp("scheduler", { ...common, JQ_NODE_ID: "sched-1", JQ_LEADER_LEASE_MS: "2000", JQ_SWEEP_INTERVAL_MS: "100" });
    health = startApp("health", { ...common, JQ_NODE_ID: "health-1", JQ_REDIS_URL: bed.redisUrl, JQ_KAFKA_BROKERS: bed.kafkaBrokers.join(",") });
    healthNoKafka = startApp("health", { ...common, JQ_NODE_ID: "health-2", JQ_REDIS_URL: bed.redisUrl, JQ_KAFKA_BROKERS: "127.0.0.1:1" });
    const [, port, portNoKafka] = await Promise.all([scheduler.ready(), health.ready(), healthNoKafka.ready()]);
    base = `http://127.0.0.1:${port}`;
    baseNoKafka = `http://127.0.0.1:${portNoKafka}`;
  });
  afterAll(async () => {
    const codes = [];
    for (const p of [healthNoKafka, health, scheduler]) codes.push(await p?.stop());
    codes.push(await api?.stop());
    await db?.drop();
    expect(codes).toEqual([0, 0, 0, 0]);
  });

  const status = async (from = base): Promise<ClusterView> => {
    const res = await fetch(`${from}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    return (await res.json()) as ClusterView;
  };
  /** Polls /status until `done` holds (the snapshot is cached for up to a second). */
  const statusWhen = async (done: (s: ClusterView) => boolean, from = base): Promise<ClusterView> => {
    const deadline = Date.now() + 15_000;
    let s = await status(from);
    while (!done(s) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      s = await status(from);
    }
    return s;
  };

  it("reports every dependency, the leader and the live nodes", async () => {
    // Each dependency answers its probe within 1.5 s; on a loaded machine one can miss a round,
    // and /status says so ("no answer within 1500 ms"): wait for a round in which all answered.
    const answered = (s: ClusterView) => Object.values(s.dependencies).every((d) => d === "ok");
    const s = await statusWhen((s) => s.leader !== null && s.nodes.filter((n) => n.alive).length === 4 && answered(s));
    expect(s.dependencies).toEqual({ postgres: "ok", redis: "ok", kafka: "ok" });
    expect(s.leader).toEqual({ nodeId: "sched-1", term: expect.stringMatching(/^[1-9]\d*$/) });
    expect(s.nodes.map((n) => [n.nodeId, n.role, n.alive, n.leader])).toEqual([
      ["api-1", "api", true, false],
      ["health-1", "health", true, false],
      ["health-2", "health", true, false],
      ["sched-1", "scheduler", true, true],
    ]);
    expect(s.workers).toEqual({ online: 0, draining: 0, offline: 0 });
    expect(Date.now() - Date.parse(s.generatedAt)).toBeLessThan(5_000);
  });

  it("shows queue depth, oldest pending age and outbox events change as jobs are submitted", async () => {
    await c.call(c.admin, "createQueue", { name: "emails", paused: false });
    let s = await statusWhen((s) => s.queues.some((q) => q.name === "emails"));
    expect(s.queues.find((q) => q.name === "emails")).toMatchObject({ paused: false, depth: { PENDING: 0 }, oldestPendingAgeSeconds: null, scheduled: 0 });
    const outboxBefore = s.outbox!.events;

    for (let i = 0; i < 3; i++) await c.call(c.jobs, "submitJob", jobRequest("emails"));
    await c.call(c.jobs, "submitJob", jobRequest("emails", { start: { $case: "delay", value: { seconds: "600", nanos: 0 } } }));
    s = await statusWhen((s) => s.queues.find((q) => q.name === "emails")?.depth.PENDING === 4);
    const emails = s.queues.find((q) => q.name === "emails")!;
    expect(emails.depth).toEqual({ PENDING: 4, ASSIGNED: 0, RUNNING: 0, DONE: 0, FAILED: 0, DEAD_LETTERED: 0 });
    expect(emails.scheduled).toBe(1);
    expect(emails.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(emails.oldestPendingAgeSeconds).toBeLessThan(60);
    expect(s.outbox!.events).toBeGreaterThanOrEqual(outboxBefore + 4);
    expect(s.outbox!.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
  });

  it("lists recent dead letters (a job whose TTL passed with no worker)", async () => {
    await c.call(c.admin, "createQueue", { name: "short-lived", paused: false, settings: { ttl: { seconds: "1", nanos: 0 } } });
    const { job } = await c.call(c.jobs, "submitJob", jobRequest("short-lived"));
    const s = await statusWhen((s) => s.recentDeadLetters.length > 0);
    expect(s.recentDeadLetters).toEqual([{ id: job!.id, queue: "short-lived", reason: "EXPIRED", errorMessage: expect.stringContaining("TTL"), completedAt: expect.any(String) }]);
    expect(s.queues.find((q) => q.name === "short-lived")?.depth.DEAD_LETTERED).toBe(1);
  });

  it("serves the same numbers as Prometheus gauges, each with help text", async () => {
    const s = await statusWhen((s) => s.queues.find((q) => q.name === "emails")?.depth.PENDING === 4 && s.leader !== null);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [
      "jq_queue_jobs",
      "jq_queue_oldest_pending_age_seconds",
      "jq_outbox_events",
      "jq_outbox_oldest_age_seconds",
      "jq_workers",
      "jq_nodes_alive",
      "jq_scheduler_leader_present",
      "jq_dependency_up",
    ]) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.*$`, "m"));
      expect(text).toMatch(new RegExp(`^# TYPE ${name} gauge$`, "m"));
    }
    const m = parseSamples(text);
    expect(m.value("jq_queue_jobs", { queue: "emails", status: "PENDING" })).toBe(4);
    expect(m.value("jq_queue_jobs", { queue: "emails", status: "DONE" })).toBe(0);
    expect(m.value("jq_queue_jobs", { queue: "short-lived", status: "DEAD_LETTERED" })).toBe(1);
    expect(m.value("jq_queue_oldest_pending_age_seconds", { queue: "emails" })).toBeGreaterThanOrEqual(0);
    expect(m.value("jq_outbox_events", {})).toBeGreaterThanOrEqual(s.outbox!.events);
    expect(m.value("jq_workers", { status: "ONLINE" })).toBe(0);
    expect(m.value("jq_nodes_alive", { role: "api" })).toBe(1);
    expect(m.value("jq_nodes_alive", { role: "scheduler" })).toBe(1);
    expect(m.value("jq_nodes_alive", { role: "health" })).toBe(2);
    expect(m.value("jq_scheduler_leader_present", {})).toBe(1);
    for (const dependency of ["postgres", "redis", "kafka"]) expect(m.value("jq_dependency_up", { dependency })).toBe(1);
  });

  it("computes the snapshot at most once a second, however many ask", async () => {
    const many = await Promise.all(Array.from({ length: 8 }, () => status()));
    expect(new Set(many.map((s) => s.generatedAt)).size).toBeLessThanOrEqual(2);
  });

  it("serves a self-contained dashboard at /", async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    const html = await res.text();
    expect(html).toMatch(/<table id="queues">/);
    // Scripts and styles come from this process only (relative paths), none inline.
    expect(html).not.toMatch(/https?:\/\/|\/\/cdn|<script>|<style/i);
    expect([...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1])).toEqual([
      "assets/uplot.css",
      "assets/dashboard.css",
      "assets/uplot.js",
      "assets/dashboard.js",
    ]);
    for (const [path, type] of [["assets/dashboard.js", /^text\/javascript/], ["assets/uplot.js", /^text\/javascript/], ["assets/uplot.css", /^text\/css/]] as const) {
      const asset = await fetch(`${base}/${path}`);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get("content-type"), path).toMatch(type);
      expect((await asset.text()).length, path).toBeGreaterThan(1000);
    }
    const script = await (await fetch(`${base}/assets/dashboard.js`)).text();
    expect(script).toContain('fetch("status"');
    expect(script).not.toMatch(/innerHTML|https?:\/\//);
  });

  it("names an unreachable Kafka in /status and its gauge, and stays ready", async () => {
    const s = await status(baseNoKafka);
    expect(s.dependencies.postgres).toBe("ok");
    expect(s.dependencies.redis).toBe("ok");
    expect(s.dependencies.kafka).not.toBe("ok");
    expect(s.dependencies.kafka).not.toBe("not configured");
    expect(s.dependencies.kafka.length).toBeGreaterThan(0);
    const ready = await fetch(`${baseNoKafka}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { postgres: "ok" } });
    const m = parseSamples(await (await fetch(`${baseNoKafka}/metrics`)).text());
    expect(m.value("jq_dependency_up", { dependency: "kafka" })).toBe(0);
    expect(m.value("jq_dependency_up", { dependency: "redis" })).toBe(1);
  });
});

/** Prometheus text samples, looked up by name and a subset of labels. */
function parseSamples(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return {
    value(name: string, want: Record<string, string>): number | undefined {
      return samples.find((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))?.value;
    },
  };
}
