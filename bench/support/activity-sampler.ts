import type pg from "pg";
import type { BackendStates } from "./backend-sampler.js";

// What a system's Postgres connections are doing during a phase, sampled from pg_stat_activity
// every `everyMs` on a connection of its own: how many are running, waiting for a lock or idle
// (as backend-sampler.ts), and, for the active ones, what they wait on and which statement they
// run. With no pg_stat_statements on the bench's server, the statements that are most often
// active are where Postgres spends its time for that client.

/** One thing active connections were seen doing, and how many of them on average. */
export interface ActivityShare {
  readonly what: string;
  /** Average number of connections doing it (like the `running` column). */
  readonly connections: number;
}

export interface ActivityProfile extends BackendStates {
  /** `wait_event_type:wait_event` of active connections ("CPU" when not waiting), most seen first. */
  readonly waits: readonly ActivityShare[];
  /** The first characters of the statements active connections were running, most seen first. */
  readonly statements: readonly ActivityShare[];
}

export interface ActivitySampling {
  stop(): Promise<ActivityProfile>;
}

// $1: application names.
const ACTIVITY = `
  SELECT state = 'active' AS active, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait,
         left(regexp_replace(btrim(query), '\\s+', ' ', 'g'), 90) AS statement
  FROM pg_stat_activity WHERE application_name = ANY($1::text[]) AND pid <> pg_backend_pid()`;

function top(counts: Map<string, number>, samples: number, n: number): ActivityShare[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([what, count]) => ({ what, connections: count / samples }));
}

export function sampleActivity(client: pg.Client, applicationNames: readonly string[], everyMs = 50, topN = 6): ActivitySampling {
  let stopped = false;
  const totals = { running: 0, waiting: 0, idle: 0, samples: 0 };
  const waits = new Map<string, number>();
  const statements = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ active: boolean; wait: string; statement: string }>(ACTIVITY, [[...applicationNames]]);
      for (const row of rows) {
        if (!row.active) {
          totals.idle++;
          continue;
        }
        if (row.wait.startsWith("Lock:")) totals.waiting++;
        else totals.running++;
        bump(waits, row.wait);
        bump(statements, row.statement);
      }
      totals.samples++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  loop.catch(() => undefined); // Reported by stop().
  return {
    async stop() {
      stopped = true;
      await loop;
      const n = Math.max(totals.samples, 1);
      return {
        running: totals.running / n,
        waitingForLock: totals.waiting / n,
        idle: totals.idle / n,
        samples: totals.samples,
        waits: top(waits, n, topN),
        statements: top(statements, n, topN),
      };
    },
  };
}
