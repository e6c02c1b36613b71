import { waitUntil } from "../bed/wait-until.js";

// The one way a test waits: on a condition, with a deadline that names what it waited for. Never a
// bare sleep: on a loaded machine a fixed sleep is either too short (a flake) or proves nothing
// (a "nothing happened" that no event could have changed yet). The deadline is generous on purpose:
// it only bounds a broken run; a bound the test promises is asserted on its own, by name.

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 20): Promise<void> {
  await waitUntil(
    async () => {
      if (!(await check())) throw new Error("not yet");
    },
    { what, timeoutMs, intervalMs },
  );
}
