/** A service the bed started (or was pointed at), and how to get rid of it. */
export interface StartedService<Endpoint> {
  readonly endpoint: Endpoint;
  /** Where it runs, for the start-up log line: "127.0.0.1:5432 (pid 123)". */
  readonly where: string;
  /** Stops the service and removes its data; safe to call twice. */
  stop(): Promise<void>;
}

/** Wraps a stop function so the second and later calls share the first call's promise. */
export function stopOnlyOnce(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
