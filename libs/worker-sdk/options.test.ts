import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Logger as PinoLogger } from "pino";
import { describe, expect, it } from "vitest";
import { resolveWorkerOptions, type WorkerLogger, type WorkerOptions } from "./options.js";
import { SDK_NAME, SDK_VERSION } from "./version.js";

const base: WorkerOptions = { address: "127.0.0.1:1", queues: ["emails"], handler: () => undefined };

describe("resolveWorkerOptions", () => {
  it("fills in defaults", () => {
    const o = resolveWorkerOptions(base);
    expect(o).toMatchObject({ concurrency: 1, hostname: hostname(), workerId: undefined, closeTimeoutMs: 30_000, flushTimeoutMs: 10_000, streamReadyGraceMs: 250 });
    expect(o.reconnect).toEqual({ initialDelayMs: 100, maxDelayMs: 5_000 });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it("names the bad option", () => {
    expect(() => resolveWorkerOptions({ ...base, address: undefined })).toThrow(/address.*client/);
    expect(() => resolveWorkerOptions({ ...base, queues: [] })).toThrow(/queues/);
    expect(() => resolveWorkerOptions({ ...base, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => resolveWorkerOptions({ ...base, concurrency: 1001 })).toThrow(/concurrency/);
    expect(() => resolveWorkerOptions({ ...base, concurrency: 1.5 })).toThrow(/concurrency/);
    expect(() => resolveWorkerOptions({ ...base, closeTimeoutMs: -1 })).toThrow(/closeTimeoutMs/);
    expect(() => resolveWorkerOptions({ ...base, reconnect: { initialDelayMs: 0 } })).toThrow(/reconnect/);
  });

  it("treats an empty workerId as none (the server assigns one)", () => {
    expect(resolveWorkerOptions({ ...base, workerId: "" }).workerId).toBeUndefined();
  });
});

describe("SDK version", () => {
  it("matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(SDK_VERSION).toBe(pkg.version);
    expect(SDK_NAME).toBe(`jq-ts/${pkg.version}`);
  });
});

describe("WorkerLogger", () => {
  it("accepts a pino logger and console as they are", () => {
    // Compile-time checks: these assignments fail `tsc` if the interface drifts.
    const fromPino = (logger: PinoLogger): WorkerLogger => logger;
    const fromConsole: WorkerLogger = console;
    expect(typeof fromPino).toBe("function");
    expect(typeof fromConsole.warn).toBe("function");
  });
});
