import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "jq-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives documented defaults with nothing set", () => {
    const c = loadConfig({});
    expect(c.grpc.port).toBe(50051);
    expect(c.kafka).toBeUndefined();
    expect(c.redis).toBeUndefined();
    expect(c.database.url).toBeUndefined();
    expect(c.limits.maxPayloadBytes).toBe(1024 * 1024);
    expect(c.http.ports).toEqual({ api: 8080, scheduler: 8081, health: 8082 });
  });

  it("parses typed values from strings", () => {
    const c = loadConfig({
      JQ_DATABASE_URL: "postgres://jq:secret@127.0.0.1:5432/jq",
      JQ_GRPC_PORT: "6000",
      JQ_KAFKA_BROKERS: "127.0.0.1:9092, 127.0.0.1:9093",
      JQ_RUN_MIGRATIONS: "false",
      JQ_NODE_ID: "api-1",
    });
    expect(c.grpc.port).toBe(6000);
    expect(c.kafka?.brokers).toEqual(["127.0.0.1:9092", "127.0.0.1:9093"]);
    expect(c.kafka?.topic).toBe("jq.job-events");
    expect(c.database.runMigrations).toBe(false);
    expect(c.nodeId).toBe("api-1");
  });

  it("returns a deeply frozen object", () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
    expect(() => {
      (c.grpc as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it("names the bad key and what it expects", () => {
    expect(problemsOf({ JQ_GRPC_PORT: "eighty" })).toEqual([
      { key: "JQ_GRPC_PORT", source: "environment", message: "expected an integer between 0 and 65535" },
    ]);
    expect(() => loadConfig({ JQ_DATABASE_URL: "mysql://x" })).toThrow(
      /JQ_DATABASE_URL \(environment\): expected a URL starting with postgres:\/\/ or postgresql:\/\//,
    );
    expect(problemsOf({ JQ_LOG_LEVEL: "loud" })[0]?.key).toBe("JQ_LOG_LEVEL");
  });

  it("reports every problem at once", () => {
    const keys = problemsOf({ JQ_GRPC_PORT: "-1", JQ_MAX_PAGE_SIZE: "0", JQ_KAFKA_BROKERS: "nohostport" }).map((p) => p.key);
    expect(keys.sort()).toEqual(["JQ_GRPC_PORT", "JQ_KAFKA_BROKERS", "JQ_MAX_PAGE_SIZE"]);
  });

  it("refuses unknown JQ_ settings and suggests the near one", () => {
    expect(problemsOf({ JQ_DATABSE_URL: "postgres://x/y" })).toEqual([
      { key: "JQ_DATABSE_URL", source: "environment", message: "unknown setting; did you mean JQ_DATABASE_URL?" },
    ]);
  });

  it("leaves the clients' JQ_API_KEY alone, so one shell can run a client and the server", () => {
    expect(loadConfig({ JQ_API_KEY: "s3cret-raw-key", JQ_GRPC_PORT: "6000" }).grpc.port).toBe(6000);
  });

  it("refuses a JQ_API_KEYS-style list put in JQ_API_KEY instead of running open", () => {
    const [problem] = problemsOf({ JQ_API_KEY: `ops:admin:${"a".repeat(64)}` });
    expect(problem?.key).toBe("JQ_API_KEY");
    expect(problem?.message).toContain("JQ_API_KEYS");
  });

  it("ignores the test bed's variables and empty values", () => {
    expect(() => loadConfig({ JQ_TEST_DATABASE_URL: "x", JQ_GRPC_PORT: "" })).not.toThrow();
    expect(() => loadConfig({ JQ_TOOLS_DIR: "/opt/jq-tools", JQ_CACHE_DIR: "/var/cache/jq" })).not.toThrow();
  });

  it("parses API keys as hashes with roles", () => {
    const hash = "a".repeat(64);
    const c = loadConfig({ JQ_API_KEYS: `ci:client+admin:${hash}, w1:worker:${"B".repeat(64)}` });
    expect(c.apiKeys).toEqual([
      { name: "ci", roles: ["client", "admin"], sha256: hash },
      { name: "w1", roles: ["worker"], sha256: "b".repeat(64) },
    ]);
    expect(problemsOf({ JQ_API_KEYS: "ci:root:" + hash })[0]).toMatchObject({ key: "JQ_API_KEYS" });
    expect(problemsOf({ JQ_API_KEYS: "ci:client:plaintext-key" })[0]).toMatchObject({ key: "JQ_API_KEYS" });
    expect(problemsOf({ JQ_API_KEYS: `a:client:${hash},a:admin:${hash}` })[0]?.message).toBe("key name a is used twice");
  });

  it("parses an optional queue scope per key: names and prefixes joined by |", () => {
    const hash = "a".repeat(64);
    const c = loadConfig({ JQ_API_KEYS: `t:client:${hash}:billing|reports.*,u:admin:${"b".repeat(64)}` });
    expect(c.apiKeys).toEqual([
      { name: "t", roles: ["client"], sha256: hash, queues: ["billing", "reports.*"] },
      { name: "u", roles: ["admin"], sha256: "b".repeat(64) },
    ]);
    expect(problemsOf({ JQ_API_KEYS: `t:client:${hash}:` })[0]).toMatchObject({ key: "JQ_API_KEYS" });
    expect(problemsOf({ JQ_API_KEYS: `t:client:${hash}:bad name` })[0]).toMatchObject({ key: "JQ_API_KEYS" });
    expect(problemsOf({ JQ_API_KEYS: `t:client:${hash}:a*b` })[0]).toMatchObject({ key: "JQ_API_KEYS" });
  });

  it("checks settings that only make sense together", () => {
    expect(problemsOf({ JQ_TLS_CERT_FILE: "/c.pem" })).toEqual([
      { key: "JQ_TLS_KEY_FILE", source: "default", message: "must be set together with JQ_TLS_CERT_FILE and JQ_TLS_KEY_FILE" },
    ]);
    expect(problemsOf({ JQ_DEFAULT_PAGE_SIZE: "500", JQ_MAX_PAGE_SIZE: "100" })[0]?.key).toBe("JQ_DEFAULT_PAGE_SIZE");
  });

  it("reads a JSON file named by JQ_CONFIG_FILE; the environment wins", () => {
    const file = join(dir, "jq.json");
    writeFileSync(file, JSON.stringify({ JQ_GRPC_PORT: 7000, JQ_KAFKA_TOPIC: "events", JQ_RUN_MIGRATIONS: false }));
    const c = loadConfig({ JQ_CONFIG_FILE: file, JQ_KAFKA_TOPIC: "from-env", JQ_KAFKA_BROKERS: "k:9092" });
    expect(c.grpc.port).toBe(7000);
    expect(c.kafka?.topic).toBe("from-env");
    expect(c.database.runMigrations).toBe(false);
  });

  it("names the file as the source of a bad value in it", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ JQ_MAX_BATCH_SIZE: "lots", JQ_NOPE: 1 }));
    expect(problemsOf({ JQ_CONFIG_FILE: file })).toEqual([
      { key: "JQ_NOPE", source: file, message: "unknown setting" },
      { key: "JQ_MAX_BATCH_SIZE", source: file, message: "expected an integer between 1 and 100000" },
    ]);
  });

  it("explains an unreadable or malformed file", () => {
    expect(problemsOf({ JQ_CONFIG_FILE: join(dir, "missing.json") })[0]?.key).toBe("JQ_CONFIG_FILE");
    const file = join(dir, "broken.json");
    writeFileSync(file, "{ nope");
    expect(problemsOf({ JQ_CONFIG_FILE: file })[0]?.message).toMatch(/^not valid JSON/);
  });
});
