import { TRANSITIONS } from "./transitions.js";

/**
 * The job state machine as a mermaid state diagram, one arrow per (from, to) with its reasons,
 * drawn from the lifecycle table so docs/architecture.md cannot drift from it (a test compares).
 */
export function jobStateDiagram(): string {
  const arrows = new Map<string, string[]>();
  for (const t of TRANSITIONS) {
    const key = `${t.from ?? "[*]"} --> ${t.to}`;
    arrows.set(key, [...(arrows.get(key) ?? []), t.reason]);
  }
  const lines = [...arrows].map(([arrow, reasons]) => `  ${arrow}: ${reasons.join(", ")}`);
  return ["stateDiagram-v2", ...lines, "  DONE --> [*]", "  DEAD_LETTERED --> [*]"].join("\n");
}
