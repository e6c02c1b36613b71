import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import type { Demotion, LeaderElector } from "../../libs/leader/index.js";
import { createLogger, type Logger } from "../../libs/logging/logger.js";

// Helpers for the leader election tests: watch in-process electors and time what they do.

/** A logger for electors under test; set JQ_TEST_LEADER_LOG=1 to see their warnings on stderr. */
export function leaderTestLogger(nodeId: string): Logger {
  const verbose = process.env.JQ_TEST_LEADER_LOG === "1";
  const sink = verbose ? process.stderr : new Writable({ write: (_chunk, _encoding, done) => done() });
  return createLogger({ app: "leader-test", nodeId, level: verbose ? "debug" : "silent", destination: sink });
}

export interface Election {
  readonly elector: LeaderElector;
  readonly term: bigint;
  /** performance.now() when the elected callback ran. */
  readonly at: number;
}

/** The next election among `electors` (an already leading one counts at once). */
export function nextElection(electors: readonly LeaderElector[], timeoutMs = 10_000): Promise<Election> {
  const leading = electors.find((e) => e.isLeader());
  if (leading) return Promise.resolve({ elector: leading, term: leading.currentTerm()!, at: performance.now() });
  return new Promise<Election>((resolve, reject) => {
    const unsubscribe = electors.map((elector) =>
      elector.onElected((term) => {
        finish();
        resolve({ elector, term, at: performance.now() });
      }),
    );
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no elector of ${electors.map((e) => e.nodeId).join(", ")} was elected within ${timeoutMs} ms`));
    }, timeoutMs);
    function finish(): void {
      clearTimeout(timer);
      for (const off of unsubscribe) off();
    }
  });
}

/** The next demotion of `elector`, with performance.now() when it happened. */
export function nextDemotion(elector: LeaderElector, timeoutMs = 10_000): Promise<Demotion & { at: number }> {
  return new Promise((resolve, reject) => {
    const off = elector.onDemoted((demotion) => {
      clearTimeout(timer);
      off();
      resolve({ ...demotion, at: performance.now() });
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${elector.nodeId} was not demoted within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

/** Samples `electors` every `everyMs` for `forMs`; returns the leaders seen at each sample. */
export async function sampleLeaders(electors: readonly LeaderElector[], forMs: number, everyMs = 10): Promise<string[][]> {
  const samples: string[][] = [];
  const until = performance.now() + forMs;
  while (performance.now() < until) {
    samples.push(electors.filter((e) => e.isLeader()).map((e) => e.nodeId));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return samples;
}

/** Blocks the event loop, as a long GC pause or a stopped process would. */
export function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** A Redis lock as its store holds it: the token, and when it lapses on Redis's clock (epoch ms). */
export interface RedisLock {
  readonly holder: string | null;
  readonly endsAt: number;
}

/** Reads `key`'s holder, Redis's clock and the key's time to live in one MULTI. */
export async function redisLock(redis: Redis, key: string): Promise<RedisLock> {
  const replies = (await redis.multi().get(key).time().pttl(key).exec())!.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  const [holder, [seconds, micros], ttlMs] = replies as [string | null, [string, string], number];
  return { holder, endsAt: Number(seconds) * 1000 + Number(micros) / 1000 + ttlMs };
}

/** performance.now() of this process as epoch milliseconds, to compare with a store's clock. */
export function wallClock(at: number): number {
  return performance.timeOrigin + at;
}
