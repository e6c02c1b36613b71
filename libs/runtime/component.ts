/**
 * The start/stop contract of every long-lived part of a jq process (servers, pools, loops):
 * `start()` resolves once the part is ready; `stop()` is safe to call twice (and before start)
 * and resolves when every handle it owns is closed.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Wraps a start/stop pair so a second `stop()` (or a stop before start) is a no-op. */
export function component(name: string, start: () => Promise<void>, stop: () => Promise<void>): Component {
  let started = false;
  let stopping: Promise<void> | undefined;
  return {
    name,
    async start() {
      await start();
      started = true;
    },
    stop() {
      if (!started) return Promise.resolve();
      stopping ??= stop();
      return stopping;
    },
  };
}
