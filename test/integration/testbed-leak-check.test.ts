import net from "node:net";
import { describe, expect, it } from "vitest";
import { resourcesLeftOpen, settledResourceCounts } from "../setup/resource-leaks.js";

// The leak check (test/setup/leak-check.ts) is only as good as its detector: prove it sees an
// open server and a running interval, and stops seeing them once they are closed.
describe("leak detector", () => {
  it("sees an open net.Server and setInterval, and not once they are closed", async () => {
    const baseline = await settledResourceCounts();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    // Three intervals, not one: a timer of the process that was in the baseline may end in the
    // meantime (it did once, in a loaded CI run) and hide one of ours from the count.
    const intervals = [1, 2, 3].map(() => setInterval(() => undefined, 1_000));

    const whileOpen = await resourcesLeftOpen(baseline, { graceMs: 200 });
    expect(whileOpen.TCPServerWrap).toBe(1);
    expect(whileOpen.Timeout).toBeGreaterThanOrEqual(1);

    intervals.forEach(clearInterval);
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    expect(await resourcesLeftOpen(baseline, { graceMs: 1_000 })).toEqual({});
  });

  it("sees a client socket until it is destroyed", async () => {
    const server = net.createServer((socket) => socket.on("error", () => undefined));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const baseline = await settledResourceCounts();
    const address = server.address() as net.AddressInfo;
    const socket = net.connect(address.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));

    // The client end and the server's accepted end are both TCP sockets.
    expect((await resourcesLeftOpen(baseline, { graceMs: 100 })).TCPSocketWrap).toBe(2);

    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await resourcesLeftOpen(baseline, { graceMs: 1_000 })).toEqual({});
  });
});
