import { JobStatus, TransitionReason, WorkerStatus } from "../../libs/proto/index.js";
import { CliError } from "./exit-codes.js";

type NumericEnum = Record<string, string | number>;

/** Names a user may type for an enum: `pending`, `PENDING` or `JOB_STATUS_PENDING`. */
function parseNames<E extends NumericEnum>(e: E, prefix: string, text: string, flag: string): number[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => {
      const name = raw.toUpperCase().replace(/-/g, "_").replace(new RegExp(`^${prefix}`), "");
      const value = e[name];
      if (typeof value !== "number" || name === "UNSPECIFIED" || name === "UNRECOGNIZED") {
        throw new CliError(`${flag}: unknown value "${raw}" (one of ${enumNames(e).join(", ")})`);
      }
      return value;
    });
}

/** The lower-case names of an enum's real values, as shown to people. */
export function enumNames(e: NumericEnum): string[] {
  return Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED" && k !== "UNRECOGNIZED").map((k) => k.toLowerCase());
}

/** An enum value for people: `JobStatus.DEAD_LETTERED` → `dead_lettered`. */
export function enumLabel(e: NumericEnum, value: number): string {
  const name = e[value];
  return typeof name === "string" ? name.toLowerCase() : String(value);
}

export const parseJobStatuses = (text: string): JobStatus[] => parseNames(JobStatus, "JOB_STATUS_", text, "--status");
export const parseWorkerStatuses = (text: string): WorkerStatus[] => parseNames(WorkerStatus, "WORKER_STATUS_", text, "--status");
export const parseReasons = (text: string): TransitionReason[] => parseNames(TransitionReason, "TRANSITION_REASON_", text, "--reason");
