import type net from "node:net";
import { HTTP2_MAGIC } from "../../apps/api/http2-preface.js";

// Raw connections to an api's port for the connection-gate tests (api-connections, and under TLS
// api-tls-handshake): how long the server takes to close one fed in some stalling way.

/** What an unanswered connection reports: the server had not closed it after 5 s. */
const GIVE_UP_MS = 5000;

/**
 * Opens a connection with `open` and feeds it with `feed` once `connectEvent` fires; resolves with
 * how long after opening the server closed it, or "open" if it had not after 5 s.
 */
export async function closedAfter<S extends net.Socket>(
  open: () => S,
  connectEvent: string,
  feed: (socket: S) => NodeJS.Timeout | undefined,
): Promise<number | "open"> {
  const socket = open();
  socket.on("error", () => {});
  const started = Date.now();
  const closed = new Promise<number>((res) => socket.once("close", () => res(Date.now() - started)));
  await new Promise<void>((res, rej) => {
    socket.once(connectEvent, () => res());
    socket.once("close", () => rej(new Error(`closed before ${connectEvent}`)));
  });
  const timer = feed(socket);
  let giveUp: NodeJS.Timeout | undefined;
  const result = await Promise.race([closed, new Promise<"open">((r) => (giveUp = setTimeout(() => r("open"), GIVE_UP_MS)))]);
  clearTimeout(giveUp);
  clearInterval(timer);
  socket.destroy();
  return result;
}

/**
 * Feeds a valid HTTP/2 client preface too slowly to finish within a 500 ms deadline: the 24 magic
 * bytes a byte every 5 ms, then the 69 bytes of a SETTINGS frame a byte every 50 ms.
 */
export function trickleHttp2Preface(socket: net.Socket): NodeJS.Timeout {
  const preface = Buffer.concat([HTTP2_MAGIC, Buffer.from([0, 0, 60, 4, 0, 0, 0, 0, 0]), Buffer.alloc(60)]);
  let tick = 0;
  let i = 0;
  return setInterval(() => {
    tick++;
    if (!socket.destroyed && i < preface.length && (i < HTTP2_MAGIC.length || tick % 10 === 0)) socket.write(preface.subarray(i, ++i));
  }, 5);
}
