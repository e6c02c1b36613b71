import { describe, expect, it } from "vitest";
import type { StreamJobsResponse } from "../../../libs/proto/index.js";
import { SessionRegistry, WorkerSession } from "./worker-session.js";

const session = (id: string, queues: string[], concurrency = 2, send: (m: StreamJobsResponse) => Promise<void> = async () => {}) =>
  new WorkerSession(id, queues, concurrency, false, send);

describe("WorkerSession", () => {
  it("counts free slots from what it holds, and has none while draining or closed", () => {
    const s = session("w", ["a"], 3);
    expect(s.freeSlots).toBe(3);
    s.held.set("j1", 1);
    expect(s.freeSlots).toBe(2);
    s.draining = true;
    expect(s.freeSlots).toBe(0);
    s.draining = false;
    s.close();
    expect(s.freeSlots).toBe(0);
  });

  it("reports a failed or closed write as false", async () => {
    const broken = session("w", ["a"], 1, async () => {
      throw new Error("stream gone");
    });
    expect(await broken.write({ kind: undefined })).toBe(false);
    const ok = session("w2", ["a"]);
    expect(await ok.write({ kind: undefined })).toBe(true);
    ok.close();
    expect(await ok.write({ kind: undefined })).toBe(false);
  });

  it("resolves whenClosed with the closing error, once", async () => {
    const s = session("w", ["a"]);
    const closed = s.whenClosed();
    const err = new Error("replaced");
    s.close(err);
    s.close(new Error("second"));
    expect(await closed).toBe(err);
    expect(await s.whenClosed()).toBe(err);
  });
});

describe("WorkerSession.drain", () => {
  it("takes no more jobs and tells the worker once, however many times the replica hears of the drain", async () => {
    const sent: StreamJobsResponse[] = [];
    const s = session("w", ["q"], 2, async (m) => void sent.push(m));
    expect(s.freeSlots).toBe(2);
    await s.drain("the worker is draining");
    await s.drain("DrainWorker was called");
    expect(s.freeSlots).toBe(0);
    expect(sent).toEqual([{ kind: { $case: "drain", value: { message: "the worker is draining" } } }]);
  });

  it("tells a session that started draining (the row said so) once too", async () => {
    const sent: StreamJobsResponse[] = [];
    const s = new WorkerSession("w", ["q"], 2, true, async (m) => void sent.push(m));
    expect(s.freeSlots).toBe(0);
    await s.drain("the worker is draining");
    await s.drain("DrainWorker was called");
    expect(sent).toHaveLength(1);
  });
});

describe("SessionRegistry", () => {
  it("indexes sessions by worker and queue, and a new session replaces the worker's old one", () => {
    const r = new SessionRegistry();
    const a1 = session("a", ["q1", "q2"]);
    const b = session("b", ["q2"]);
    expect(r.add(a1)).toBeUndefined();
    r.add(b);
    expect([...r.ofQueue("q2")]).toEqual([a1, b]);
    const a2 = session("a", ["q3"]);
    expect(r.add(a2)).toBe(a1);
    expect([...r.ofQueue("q1")]).toEqual([]);
    expect([...r.ofQueue("q2")]).toEqual([b]);
    expect(r.get("a")).toBe(a2);
    expect(r.size).toBe(2);
  });

  it("does not remove a newer session when an older one leaves", () => {
    const r = new SessionRegistry();
    const old = session("a", ["q"]);
    const fresh = session("a", ["q"]);
    r.add(old);
    r.add(fresh);
    r.remove(old);
    expect(r.get("a")).toBe(fresh);
    expect([...r.ofQueue("q")]).toEqual([fresh]);
  });
});
