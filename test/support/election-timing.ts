import type { TimerLateness } from "./timer-lateness.js";

// The timing every leader election test runs with, Redis or Postgres: one lease, its renew
// interval, and the slack a time bound may add on a loaded machine.

export const LEASE_MS = 1_000;
export const RENEW_MS = Math.floor(LEASE_MS / 3);
/**
 * Room for the round trips of one acquisition on top of a poll interval: the lock command and
 * the four statements that publish the term, to servers as loaded as this process.
 */
export const ROUND_TRIPS_MS = 250;

/** ROUND_TRIPS_MS plus how late this process's timers (so its electors') ran: measured, not guessed. */
export function electionSlackMs(lateness: TimerLateness): number {
  return ROUND_TRIPS_MS + lateness.maxMs();
}
