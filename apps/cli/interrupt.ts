/**
 * Ctrl-C handling for long loops (`dlq requeue --all`, `job submit --file`): the first SIGINT
 * asks the loop to stop after the batch under way, which then reports what was done; a second
 * SIGINT exits at once.
 */
export function interruptible(): { readonly requested: boolean; dispose(): void } {
  let requested = false;
  const onSignal = () => {
    if (requested) process.exit(130);
    requested = true;
    process.stderr.write("\njqctl: stopping after the current batch (Ctrl-C again to quit now)\n");
  };
  process.on("SIGINT", onSignal);
  return {
    get requested() {
      return requested;
    },
    dispose: () => process.off("SIGINT", onSignal),
  };
}
