import { SingleBar, Presets } from "cli-progress";

export interface Progress {
  /** Sets the total once it is known (or grows it). */
  setTotal(total: number): void;
  increment(by: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr when stderr is a terminal (a person watching); nothing at all
 * otherwise, so scripts and logs get only the final answer.
 */
export function progressBar(label: string, total: number, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return { setTotal() {}, increment() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {percentage}% {eta_formatted} left`, stream: process.stderr, hideCursor: true, etaBuffer: 20 },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    setTotal: (t) => bar.setTotal(t),
    increment: (by) => bar.increment(by),
    stop: () => bar.stop(),
  };
}
