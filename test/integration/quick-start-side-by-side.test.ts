import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JqClient } from "../../libs/client/index.js";
import { CLIENT_KEYS, ConfigError, loadConfig } from "../../libs/config/index.js";
import { SETTING_KEYS } from "../../libs/config/settings.js";
import { findFreePort } from "../bed/free-port.js";
import { documentedJqVariables } from "../support/documented-variables.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { launchQuickStart, type QuickStart } from "../support/quick-start.js";

/**
 * Two `npm start` clusters on one machine (issue 16, items 1–4): each has its own pm2 home under
 * its data directory, so neither attaches to the other's daemon; the shell exports every client-side
 * variable the docs mention and the servers still start; each api replica is scraped on its own
 * port and the replicas' counters add up to the calls made; Ctrl-C stops the apps before the
 * embedded Postgres, prints "jq: stopped", and leaves no presence rows behind.
 */
describe("two quick starts side by side", () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  let a: QuickStart; // embedded Postgres
  let b: QuickStart; // the test bed's Postgres
  const serverSide = new Set<string>([...SETTING_KEYS, "JQ_CONFIG_FILE"]);
  // Names the docs mention as ones jq refuses (a typo's "did you mean", Kubernetes' service links,
  // deploy's app selector); checked to be refused below, and not exported.
  const refusedOnPurpose = ["JQ_APP", "JQ_API_PORT", "JQ_API_SERVICE_HOST", "JQ_DATABSE_URL"];
  // Every JQ_* name the docs mention that is not a server setting: what a user exports for the
  // client examples (JQ_API_KEY) or the test bed (JQ_TEST_*). Exported with a harmless value.
  const clientSide = Object.fromEntries([...documentedJqVariables()].filter((k) => !serverSide.has(k) && !refusedOnPurpose.includes(k)).map((k) => [k, "from-the-docs"]));

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), "jq-side-by-side-"));
      chmodSync(dir, 0o755); // as root the embedded Postgres runs as `postgres`, which must reach it
      dirs.push(dir);
    }
    a = await launchQuickStart({ ...clientSide, QUICK_START_DATA_DIR: dirs[0]!, EMBEDDED_POSTGRES_PORT: String(await findFreePort()) });
    b = await launchQuickStart({ ...clientSide, QUICK_START_DATA_DIR: dirs[1]!, JQ_DATABASE_URL: db.url });
    await Promise.all([a.ready(), b.ready()]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("the docs' client-side variables are exported and both clusters run on their own pm2 homes", () => {
    expect(Object.keys(clientSide)).toEqual(expect.arrayContaining([...CLIENT_KEYS]));
    expect(a.output()).toContain(`pm2 home:  ${join(dirs[0]!, "pm2")}`);
    expect(b.output()).toContain(`pm2 home:  ${join(dirs[1]!, "pm2")}`);
    for (const dir of dirs) expect(existsSync(join(dir, "pm2", "rpc.sock"))).toBe(true);
    expect(a.output()).not.toMatch(/unknown setting/);
    for (const name of refusedOnPurpose) expect(() => loadConfig({ [name]: "x" }), name).toThrow(ConfigError);
  });

  it("scrapes each api replica on its own port; the replicas' counts sum to the calls made", async () => {
    const calls = 40;
    // Several connections, so the cluster spreads them over both replicas.
    const clients = Array.from({ length: 4 }, () => new JqClient({ address: `127.0.0.1:${b.ports.grpc}`, maxAttempts: 1 }));
    try {
      await clients[0]!.call(clients[0]!.admin, "createQueue", { name: "scraped", paused: false });
      for (let i = 0; i < calls; i++) {
        const c = clients[i % clients.length]!;
        await c.call(c.admin, "getQueue", { name: "scraped" });
      }
    } finally {
      for (const c of clients) c.close();
    }
    const getQueueCount = async (port: number) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("jq_grpc_requests_total{") && l.includes('method="GetQueue"') && l.includes('code="OK"'));
      return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
    };
    const perReplica = await Promise.all(b.apiHttpPorts.map(getQueueCount));
    expect(perReplica.reduce((x, y) => x + y, 0)).toBe(calls);
    // A port answers from the same replica every time (no alternating between replicas).
    expect(await Promise.all(b.apiHttpPorts.map(getQueueCount))).toEqual(perReplica);
  });

  it("Ctrl-C stops one cluster cleanly and leaves the other running", async () => {
    b.interrupt();
    expect(await b.exited(), b.output()).toBe(0);
    expect(b.output()).toContain("jq: stopped");
    // Every node removed its own presence row while its database was still there.
    expect((await db.pool.query("SELECT node_id FROM cluster_nodes")).rows).toEqual([]);
    await a.ready(5_000);
  }, 60_000);

  it("Ctrl-C with the embedded Postgres: apps first, then Postgres, then 'jq: stopped'", async () => {
    a.interrupt();
    expect(await a.exited(), a.output()).toBe(0);
    const out = a.output();
    expect(out).toContain("jq: stopped");
    expect(out.indexOf("PM2 successfully stopped")).toBeLessThan(out.indexOf("jq: stopped"));
    expect(out).not.toContain("terminating connection");
    expect(readFileSync(join(dirs[0]!, "postgres.log"), "utf8")).not.toContain("terminating connection due to administrator command");
  }, 60_000);
});
