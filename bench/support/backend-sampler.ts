import type pg from "pg";

// What the Postgres connections of one client (by application_name) are doing during a phase,
// sampled from pg_stat_activity every `everyMs`: running (on CPU or I/O), waiting for a lock, or
// idle waiting for the client's next statement. Mostly idle connections under load mean the
// time goes on the client's side of the pool (its CPU, its event loop), not in Postgres.

export interface BackendStates {
  /** Average connections running a statement and not waiting for a lock. */
  readonly running: number;
  readonly waitingForLock: number;
  /** Idle (or idle in transaction): waiting for the client. */
  readonly idle: number;
  readonly samples: number;
}

// $1: application_name of the connections to count.
const COUNT_BACKEND_STATES = `
  SELECT count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock')::int AS running,
         count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock')::int AS waiting,
         count(*) FILTER (WHERE state <> 'active')::int AS idle
  FROM pg_stat_activity WHERE application_name = $1`;

export interface BackendSampling {
  /** Stops sampling and returns the averages. */
  stop(): Promise<BackendStates>;
}

/** Samples on its own connection (`client`, connected by the caller), one sampling at a time. */
export function sampleBackends(client: pg.Client, applicationName: string, everyMs = 50): BackendSampling {
  let stopped = false;
  const totals = { running: 0, waiting: 0, idle: 0, samples: 0 };
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ running: number; waiting: number; idle: number }>(COUNT_BACKEND_STATES, [applicationName]);
      const row = rows[0]!;
      totals.running += row.running;
      totals.waiting += row.waiting;
      totals.idle += row.idle;
      totals.samples++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  loop.catch(() => undefined); // Reported by stop(); must not count as unhandled before it.
  return {
    async stop() {
      stopped = true;
      await loop;
      const n = Math.max(totals.samples, 1);
      return { running: totals.running / n, waitingForLock: totals.waiting / n, idle: totals.idle / n, samples: totals.samples };
    },
  };
}
