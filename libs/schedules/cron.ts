import { CronExpressionParser } from "cron-parser";
import { InvalidArgument } from "../errors/index.js";

/**
 * Validates a five-field cron expression in an IANA time zone and returns its next occurrence
 * after `from`. Five fields (minute resolution) because that is what pg-boss's timekeeper fires.
 */
export function nextCronRun(cron: string, timeZone: string, from: Date = new Date()): Date {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) throw new InvalidArgument("cron", `must have five fields (minute hour day month weekday), got ${fields.length}`);
  if (!isTimeZone(timeZone)) throw new InvalidArgument("time_zone", `is not an IANA time zone: ${JSON.stringify(timeZone)}`);
  try {
    return CronExpressionParser.parse(cron, { tz: timeZone, currentDate: from }).next().toDate();
  } catch (err) {
    throw new InvalidArgument("cron", `is not a valid cron expression: ${(err as Error).message}`);
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
